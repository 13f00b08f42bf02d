/**
 * A bounded hand-off between a stage that produces work in chunks (building documents from the
 * database) and a stage that consumes them one at a time, in order (bulk-writing them), so the two
 * run at once: while chunk N is being written, chunk N+1 is being built.
 *
 * `lookAhead` bounds how far the producer may run ahead of the consumer, and so the memory held:
 * {@link Overlap.push} returns once at most `lookAhead` chunks are pushed and not yet consumed, the
 * one being consumed included. With 1, the producer builds chunk N+1 while N is written and then
 * waits for N to finish before it builds N+2 — at most one chunk built ahead. With 0 each chunk is
 * consumed before the producer goes on (no overlap).
 *
 * The first error of the consumer stops it: chunks still waiting are dropped, and every later (or
 * waiting) `push` and {@link Overlap.drain} reject with that error, so the producer stops too.
 */
export class Overlap<T> {
  private readonly waiting: T[] = [];
  /** Chunks pushed and not yet consumed (waiting, plus the one being consumed). */
  private pending = 0;
  private running = false;
  private failure: { error: unknown } | undefined;
  private stopped = false;
  /** Pushes waiting for room: woken whenever `pending` drops or the consumer fails. */
  private wakers: (() => void)[] = [];
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly consume: (chunk: T) => Promise<void>,
    private readonly lookAhead: number,
  ) {
    if (!Number.isInteger(lookAhead) || lookAhead < 0) {
      throw new RangeError(`lookAhead must be a whole number of at least 0, got ${lookAhead}`);
    }
  }

  /**
   * Hands a chunk to the consumer; resolves once the producer may build the next one.
   * @throws the consumer's error, once it failed (the chunk is then not consumed).
   */
  async push(chunk: T): Promise<void> {
    this.throwIfFailed();
    if (this.stopped) throw new Error("the overlap was stopped: no chunk is taken after stop()");
    this.waiting.push(chunk);
    this.pending++;
    if (!this.running) this.idle = this.run();
    while (this.pending > this.lookAhead && !this.failure) {
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
    this.throwIfFailed();
  }

  /**
   * Waits until every pushed chunk was consumed.
   * @throws the consumer's error, when it failed.
   */
  async drain(): Promise<void> {
    await this.idle;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * Stops after the chunk being consumed (the producer failed): chunks still waiting are dropped.
   * Resolves once nothing runs any more; never rejects (the consumer's error, if any, is returned).
   */
  async stop(): Promise<unknown> {
    this.stopped = true;
    this.pending -= this.waiting.length;
    this.waiting.length = 0;
    await this.idle;
    return this.failure?.error;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0 && !this.failure) {
        const chunk = this.waiting.shift() as T;
        try {
          await this.consume(chunk);
          this.pending--;
        } catch (error) {
          this.failure = { error };
          this.pending = 0;
          this.waiting.length = 0;
        }
        for (const wake of this.wakers.splice(0)) wake();
      }
    } finally {
      this.running = false;
    }
  }
}
