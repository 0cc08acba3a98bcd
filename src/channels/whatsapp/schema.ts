import { z } from 'zod';

/**
 * WhatsApp Cloud API webhook payloads (field "messages"), as documented by
 * Meta. Fields we use are validated; unknown fields are kept (Meta adds some
 * without notice) and unknown message types are accepted and acknowledged.
 */

const id = z.string().min(1).max(256);
/** wa_id: digits today; kept permissive but safe to embed in ids. */
const userId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
const unixSeconds = z.string().regex(/^\d{1,12}$/);

const media = z
  .object({
    id: id,
    mime_type: z.string().max(200).optional(),
    sha256: z.string().max(200).optional(),
    caption: z.string().max(4096).optional(),
    filename: z.string().max(500).optional(),
    voice: z.boolean().optional(),
    animated: z.boolean().optional(),
  })
  .passthrough();

export const waError = z
  .object({
    code: z.number().int(),
    title: z.string().max(500).optional(),
    message: z.string().max(1000).optional(),
    error_data: z.object({ details: z.string().max(1000).optional() }).passthrough().optional(),
  })
  .passthrough();

export const waMessage = z
  .object({
    from: userId,
    id: id,
    timestamp: unixSeconds,
    type: z.string().min(1).max(64),
    context: z.object({ from: z.string().optional(), id: z.string().optional() }).passthrough().optional(),
    text: z.object({ body: z.string().max(65536) }).passthrough().optional(),
    interactive: z
      .object({
        type: z.string(),
        button_reply: z.object({ id: z.string().max(256), title: z.string().max(256) }).passthrough().optional(),
        list_reply: z.object({ id: z.string().max(256), title: z.string().max(256), description: z.string().max(512).optional() }).passthrough().optional(),
      })
      .passthrough()
      .optional(),
    button: z.object({ payload: z.string().max(4096).optional(), text: z.string().max(4096) }).passthrough().optional(),
    image: media.optional(),
    document: media.optional(),
    audio: media.optional(),
    video: media.optional(),
    sticker: media.optional(),
    location: z
      .object({ latitude: z.number(), longitude: z.number(), name: z.string().max(1000).optional(), address: z.string().max(1000).optional(), url: z.string().max(2000).optional() })
      .passthrough()
      .optional(),
    reaction: z.object({ message_id: z.string().max(256), emoji: z.string().max(64).optional() }).passthrough().optional(),
    errors: z.array(waError).optional(),
    /** A Click-to-WhatsApp ad or post the person came from (first message of the conversation). */
    referral: z
      .object({
        source_url: z.string().max(2000).optional(),
        source_id: z.string().max(256).optional(),
        source_type: z.string().max(64).optional(),
        headline: z.string().max(1000).optional(),
        body: z.string().max(4096).optional(),
        ctwa_clid: z.string().max(1000).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough()
  .superRefine((m, ctx) => {
    const need: Record<string, unknown> = {
      text: m.text,
      interactive: m.interactive,
      button: m.button,
      image: m.image,
      document: m.document,
      audio: m.audio,
      video: m.video,
      sticker: m.sticker,
      location: m.location,
      reaction: m.reaction,
    };
    if (m.type in need && need[m.type] === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `message of type "${m.type}" has no "${m.type}" object`, path: [m.type] });
    if (m.type === 'interactive' && m.interactive && !m.interactive.button_reply && !m.interactive.list_reply && m.interactive.type !== 'nfm_reply') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'interactive reply without button_reply or list_reply', path: ['interactive'] });
    }
  });

export const waStatus = z
  .object({
    id: id,
    status: z.string().min(1).max(32),
    timestamp: unixSeconds,
    recipient_id: userId,
    errors: z.array(waError).optional(),
  })
  .passthrough();

export const waMessagesValue = z
  .object({
    messaging_product: z.literal('whatsapp'),
    metadata: z.object({ display_phone_number: z.string().max(64).optional(), phone_number_id: z.string().min(1).max(64) }).passthrough(),
    contacts: z.array(z.object({ wa_id: userId, profile: z.object({ name: z.string().max(500).optional() }).passthrough().optional() }).passthrough()).optional(),
    messages: z.array(waMessage).optional(),
    statuses: z.array(waStatus).optional(),
    errors: z.array(waError).optional(),
  })
  .passthrough();

export const waWebhook = z
  .object({
    object: z.literal('whatsapp_business_account'),
    entry: z
      .array(
        z
          .object({
            id: z.string().max(64),
            changes: z.array(z.object({ field: z.string().max(100), value: z.unknown() }).passthrough()).max(1000),
          })
          .passthrough(),
      )
      .min(1)
      .max(1000),
  })
  .passthrough()
  .superRefine((p, ctx) => {
    p.entry.forEach((entry, i) =>
      entry.changes.forEach((change, j) => {
        if (change.field !== 'messages') return;
        const r = waMessagesValue.safeParse(change.value);
        if (!r.success) {
          for (const issue of r.error.issues.slice(0, 3)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: issue.message, path: ['entry', i, 'changes', j, 'value', ...issue.path] });
        }
      }),
    );
  });

export type WaMessage = z.infer<typeof waMessage>;
export type WaStatus = z.infer<typeof waStatus>;
export type WaMessagesValue = z.infer<typeof waMessagesValue>;
export type WaWebhook = z.infer<typeof waWebhook>;
