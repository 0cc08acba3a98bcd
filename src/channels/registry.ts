import type { BotAdapter } from 'botbuilder';

/** The adapters that can reach a young person proactively, by channelId ('whatsapp', 'messenger'). */
export class ChannelRegistry {
  private readonly adapters = new Map<string, BotAdapter>();

  register(channelId: string, adapter: BotAdapter): this {
    this.adapters.set(channelId, adapter);
    return this;
  }

  has(channelId: string): boolean {
    return this.adapters.has(channelId);
  }

  /** The adapter of `channelId`; throws when the channel is not enabled. */
  get(channelId: string): BotAdapter {
    const adapter = this.adapters.get(channelId);
    if (!adapter) throw new Error(`No adapter for channel "${channelId}"`);
    return adapter;
  }

  channels(): string[] {
    return [...this.adapters.keys()];
  }
}
