/**
 * Where a conversation came from, as the channel told it (channel-neutral):
 * a Click-to-WhatsApp / Click-to-Messenger ad, an m.me link's `ref`, a post.
 * The mappers put it on the activity's `channelData.referral`.
 */
export interface ChannelReferral {
  /** Meta's own word for it, lower case: "ad", "post", "shortlink", "ads", "customer_chat_plugin"… */
  source: string;
  /** The `ref` of an m.me link or QR code (Messenger). */
  ref?: string;
  /** The ad id (WhatsApp `source_id` of an ad, Messenger `ad_id`). */
  adId?: string;
  /** The ad's or post's headline. */
  headline?: string;
  /** The ad's or post's URL. */
  sourceUrl?: string;
  /** Click id of a Click-to-WhatsApp ad (ctwa_clid). */
  clickId?: string;
}

const clip = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);

/** Builds a referral from the fields a webhook gave (undefined when nothing usable was there). */
export function channelReferral(fields: { source?: unknown; ref?: unknown; adId?: unknown; headline?: unknown; sourceUrl?: unknown; clickId?: unknown }): ChannelReferral | undefined {
  const r: ChannelReferral = { source: (clip(fields.source, 40) ?? 'unknown').toLowerCase() };
  const ref = clip(fields.ref, 250);
  const adId = clip(fields.adId, 100);
  const headline = clip(fields.headline, 200);
  const sourceUrl = clip(fields.sourceUrl, 500);
  const clickId = clip(fields.clickId, 300);
  if (ref) r.ref = ref;
  if (adId) r.adId = adId;
  if (headline) r.headline = headline;
  if (sourceUrl) r.sourceUrl = sourceUrl;
  if (clickId) r.clickId = clickId;
  return ref || adId || headline || sourceUrl || clickId ? r : undefined;
}
