/**
 * A background job on a timer: runs now, then `intervalMs` after each run ends.
 * Runs never overlap: a call to `run` while one is in progress shares it.
 * `stop` waits for the run in progress (work is never cut in the middle).
 */
export class PeriodicJob<A, R> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<R>;
  private started = false;

  constructor(
    private readonly task: (arg?: A) => Promise<R>,
    private readonly intervalMs: number,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {}

  /** One run; concurrent calls share the run in progress. */
  run(arg?: A): Promise<R> {
    if (this.running) return this.running;
    const run = this.task(arg).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const loop = async () => {
      if (!this.started) return;
      await this.run().catch((err: Error) => this.onError(err));
      if (this.started) this.timer = setTimeout(() => void loop(), this.intervalMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
