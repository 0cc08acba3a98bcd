import { z } from 'zod';

/**
 * Messenger Platform webhook payloads (object "page"): messages, quick
 * replies, postbacks, deliveries and reads, as documented by Meta. Unknown
 * events (optins, reactions…) are accepted and ignored; a referral (m.me `ref`,
 * ad) is kept on the message or postback it came with.
 */

const psid = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
const mid = z.string().min(1).max(512);
const ms = z.number().int().nonnegative();

/** m.me link `ref`, Click-to-Messenger ad, customer chat plugin… (with the first message, or in a Get Started postback). */
const referral = z
  .object({ ref: z.string().max(1000).optional(), source: z.string().max(64).optional(), type: z.string().max(64).optional(), ad_id: z.string().max(256).optional(), referer_uri: z.string().max(2000).optional() })
  .passthrough();

const attachment = z
  .object({
    type: z.string().max(64),
    payload: z
      .object({
        url: z.string().max(4096).optional(),
        title: z.string().max(1000).optional(),
        sticker_id: z.number().optional(),
        coordinates: z.object({ lat: z.number(), long: z.number() }).optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
  })
  .passthrough();

export const msMessaging = z
  .object({
    sender: z.object({ id: psid }).passthrough(),
    recipient: z.object({ id: z.string().max(64) }).passthrough(),
    timestamp: ms,
    message: z
      .object({
        mid: mid,
        text: z.string().max(65536).optional(),
        is_echo: z.boolean().optional(),
        quick_reply: z.object({ payload: z.string().max(4096) }).passthrough().optional(),
        attachments: z.array(attachment).max(100).optional(),
        sticker_id: z.number().optional(),
        reply_to: z.object({ mid: z.string().optional() }).passthrough().optional(),
      })
      .passthrough()
      .optional(),
    referral: referral.optional(),
    postback: z
      .object({ mid: mid.optional(), title: z.string().max(1000).optional(), payload: z.string().max(4096).optional(), referral: referral.optional() })
      .passthrough()
      .optional(),
    delivery: z.object({ mids: z.array(mid).max(1000).optional(), watermark: ms }).passthrough().optional(),
    read: z.object({ watermark: ms }).passthrough().optional(),
  })
  .passthrough();

export const msWebhook = z
  .object({
    object: z.literal('page'),
    entry: z
      .array(
        z
          .object({
            id: z.string().max(64),
            time: ms.optional(),
            messaging: z.array(msMessaging).max(1000).optional(),
          })
          .passthrough(),
      )
      .min(1)
      .max(1000),
  })
  .passthrough();

export type MsMessaging = z.infer<typeof msMessaging>;
export type MsWebhook = z.infer<typeof msWebhook>;
