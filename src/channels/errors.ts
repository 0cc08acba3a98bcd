/** A message could not be delivered by a Meta channel. `code` is Meta's error code (or our own string code). */
export class ChannelSendError extends Error {
  readonly channelId: string;
  readonly code: number | string;
  readonly subcode?: number;
  readonly title: string;
  readonly httpStatus?: number;
  /** False when retrying later may succeed (rate limit, outage); true when Meta refused for good. */
  readonly permanent: boolean;
  /** True once the adapter has written the failed message to the transcript (status failed): callers must not write it again. */
  transcriptRecorded = false;

  constructor(opts: { channelId: string; code: number | string; title: string; subcode?: number; httpStatus?: number; permanent?: boolean }) {
    super(`${opts.channelId}: ${opts.code} ${opts.title}`);
    this.name = 'ChannelSendError';
    this.channelId = opts.channelId;
    this.code = opts.code;
    this.subcode = opts.subcode;
    this.title = opts.title;
    this.httpStatus = opts.httpStatus;
    this.permanent = opts.permanent ?? true;
  }

  /** "131047 Re-engagement message": what the transcript keeps and a mediator sees. */
  get summary(): string {
    return `${this.code} ${this.title}`;
  }
}

/**
 * The channel's messaging window is closed for this message (Messenger: more
 * than 24 hours, or 7 days for a mediator; WhatsApp: outside 24 hours and no
 * template configured). Nothing was sent.
 */
export class OutsideWindowError extends ChannelSendError {
  readonly lastInboundAt?: Date;

  constructor(channelId: string, lastInboundAt: Date | undefined, detail: string) {
    super({ channelId, code: 'outside_window', title: detail, permanent: true });
    this.name = 'OutsideWindowError';
    this.lastInboundAt = lastInboundAt;
  }
}
