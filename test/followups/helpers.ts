import type { ConversationReference } from 'botbuilder';
import type { RunningService } from '../../src/index';
import { HOUR_MS } from '../../src/channels/window';
import type { FollowUpDoc } from '../../src/followups/followupService';
import type { Locale } from '../../src/i18n';
import { waitFor } from '../support/fakeGraph';
import { PAGE_ID, PHONE_NUMBER_ID, randomPsid, randomWaId } from '../support/meta';

export const WA_SECRET = 'wa-app-secret-for-followups';
export const MS_SECRET = 'messenger-app-secret-for-followups';
export const FOLLOWUP_TEMPLATE = 'declic_relance';
export const MEDIATOR_TEMPLATE = 'declic_reponse_conseiller';

export const karima = { id: 'med-karima', name: 'Karima' };

/** Both Meta channels enabled against the fake Graph API, a fast scheduler. */
export function followupEnv(graphUrl: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    WHATSAPP_APP_SECRET: WA_SECRET,
    WHATSAPP_VERIFY_TOKEN: 'verify-wa',
    WHATSAPP_ACCESS_TOKEN: 'EAAG-test-access-token',
    WHATSAPP_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
    WHATSAPP_TEMPLATE_FOLLOWUP: FOLLOWUP_TEMPLATE,
    WHATSAPP_TEMPLATE_MEDIATOR_REPLY: MEDIATOR_TEMPLATE,
    MESSENGER_APP_SECRET: MS_SECRET,
    MESSENGER_VERIFY_TOKEN: 'verify-ms',
    MESSENGER_PAGE_ACCESS_TOKEN: 'EAAPage-token',
    META_GRAPH_URL: graphUrl,
    META_RETRY_BASE_MS: '5',
    CHANNEL_REORDER_MS: '50',
    FOLLOWUP_POLL_MS: '100',
    FOLLOWUP_RETRY_DELAY_MS: '200',
    ...extra,
  };
}

export interface TestConversation {
  userId: string;
  key: string;
  userKey: string;
}

/**
 * A young person who last wrote `hoursAgo` hours ago, as the barrier gate
 * records them on an inbound message (contact + conversation with its reference).
 */
export async function conversationAt(
  svc: RunningService,
  channelId: 'whatsapp' | 'messenger',
  hoursAgo: number,
  opts: { name?: string; locale?: Locale; graphUrl?: string } = {},
): Promise<TestConversation> {
  const userId = channelId === 'whatsapp' ? randomWaId() : randomPsid();
  const reference: Partial<ConversationReference> = {
    channelId,
    serviceUrl: opts.graphUrl ?? 'https://graph.invalid',
    user: { id: userId, name: opts.name ?? 'Zoé Martin', role: 'user' },
    bot: { id: channelId === 'whatsapp' ? PHONE_NUMBER_ID : PAGE_ID, name: 'Déclic', role: 'bot' },
    conversation: { id: `${channelId}:${userId}`, isGroup: false, conversationType: 'personal', name: '' },
  };
  const at = new Date(Date.now() - hoursAgo * HOUR_MS);
  const userKey = `${channelId}:${userId}`;
  await svc.contacts.touchInbound(reference, { name: opts.name ?? 'Zoé Martin', at, locale: opts.locale });
  const conv = await svc.conversations.touch(reference, { userKey, name: opts.name ?? 'Zoé Martin', at });
  return { userId, key: conv._id, userKey };
}

export async function settled(svc: RunningService, id: string, timeoutMs = 10000): Promise<FollowUpDoc> {
  return waitFor(
    async () => {
      const doc = await svc.followups.get(id);
      return doc && !['scheduled', 'sending'].includes(doc.status) ? doc : undefined;
    },
    timeoutMs,
    `follow-up ${id} to settle`,
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
