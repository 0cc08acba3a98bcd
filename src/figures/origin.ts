import type { Activity } from 'botbuilder';
import type { ChannelReferral } from '../channels/referral';

/**
 * Where a young person came from, kept on the contact from their first
 * message (never changed afterwards): an ad, an m.me / QR link's `ref`, a
 * short code typed from a post ("DECLIC TK12"), or nothing (direct).
 */
export interface Origin {
  source: 'ad' | 'link' | 'code' | 'post' | 'direct';
  /** The campaign code: an m.me `ref` or a typed code, upper case without separators ("TK12"). */
  code?: string;
  adId?: string;
  headline?: string;
  sourceUrl?: string;
  clickId?: string;
}

/**
 * A short code typed in a first message: the word DECLIC then 2–12 letters
 * and digits with at least one digit ("DECLIC TK12", "declic-ig3", "Déclic
 * #TT2025"). The digit keeps "déclic bonjour" from being read as a code.
 */
const TYPED_CODE = /(?:^|[^a-z0-9])d[eé]clic[\s\-_:#]*([a-z0-9]{2,12})(?![a-z0-9])/i;

export function normaliseCode(raw: string): string {
  return raw
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '')
    .slice(0, 40);
}

export function typedCode(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = TYPED_CODE.exec(text.slice(0, 500));
  if (!m || !/\d/.test(m[1])) return undefined;
  return normaliseCode(m[1]);
}

/** The origin a first message carries (pure): the channel's referral first, then a typed code, else direct. */
export function originOf(activity: Partial<Activity>): Origin {
  const referral = (activity.channelData as { referral?: ChannelReferral } | undefined)?.referral;
  if (referral) {
    const ad = Boolean(referral.adId) || referral.source === 'ad' || referral.source === 'ads';
    const code = referral.ref ? normaliseCode(referral.ref) : undefined;
    const source: Origin['source'] = ad ? 'ad' : code ? 'link' : referral.source === 'post' ? 'post' : 'link';
    return {
      source,
      ...(code ? { code } : {}),
      ...(referral.adId ? { adId: referral.adId } : {}),
      ...(referral.headline ? { headline: referral.headline } : {}),
      ...(referral.sourceUrl ? { sourceUrl: referral.sourceUrl } : {}),
      ...(referral.clickId ? { clickId: referral.clickId } : {}),
    };
  }
  const code = typedCode(typeof activity.text === 'string' ? activity.text : undefined);
  return code ? { source: 'code', code } : { source: 'direct' };
}
