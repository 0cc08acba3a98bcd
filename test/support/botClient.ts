import { randomUUID } from 'crypto';

export interface ReplyActivity {
  type: string;
  text?: string;
  attachments?: Array<{ contentType: string; contentUrl?: string; name?: string; content?: unknown }>;
  suggestedActions?: { actions: Array<{ title: string; value: unknown; type: string }> };
  [key: string]: unknown;
}

/**
 * A Bot Framework client that POSTs activities to /api/messages with
 * deliveryMode "expectReplies" and returns the replies from the response body.
 */
export class BotClient {
  readonly conversationId: string;
  readonly userId: string;

  constructor(private readonly baseUrl: string, opts: { conversationId?: string; userId?: string; locale?: string; channelId?: string; serviceUrl?: string } = {}) {
    this.conversationId = opts.conversationId ?? `conv-${randomUUID()}`;
    this.userId = opts.userId ?? `user-${randomUUID()}`;
    this.locale = opts.locale ?? 'fr-FR';
    this.channelId = opts.channelId ?? 'emulator';
    this.serviceUrl = opts.serviceUrl ?? 'http://127.0.0.1:1/unused';
  }

  serviceUrl: string;

  locale: string;
  channelId: string;

  activity(extra: Record<string, unknown>): Record<string, unknown> {
    return {
      type: 'message',
      id: randomUUID(),
      channelId: this.channelId,
      serviceUrl: this.serviceUrl,
      deliveryMode: 'expectReplies',
      locale: this.locale,
      timestamp: new Date().toISOString(),
      from: { id: this.userId, name: 'Test', role: 'user' },
      recipient: { id: 'declic-bot', name: 'Déclic', role: 'bot' },
      conversation: { id: this.conversationId },
      ...extra,
    };
  }

  async post(activity: Record<string, unknown>): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.baseUrl}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(activity),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Sends a text message and returns the bot's reply activities. Throws on a non-200 answer. */
  async say(text: string, extra: Record<string, unknown> = {}): Promise<ReplyActivity[]> {
    const { status, body } = await this.post(this.activity({ text, ...extra }));
    if (status !== 200) throw new Error(`POST /api/messages answered ${status}: ${JSON.stringify(body)}`);
    return (body?.activities ?? []) as ReplyActivity[];
  }

  /** Texts of the message replies to `text`. */
  async texts(text: string, extra: Record<string, unknown> = {}): Promise<string[]> {
    return (await this.say(text, extra)).filter((a) => a.type === 'message').map((a) => a.text ?? '');
  }
}
