import type { HandoffPublisher } from "../../poller";
import { MemoryQueue, type QueueMessage, type ReceivedMessage } from "../../queue";
import { handoffMessages } from "../../runtime";

/** How long a received message stays hidden: longer than any batch, consumers always answer. */
const IN_FLIGHT_MS = 15 * 60_000;
/** How often a waiting consumer looks again without a notification. */
const RECEIVE_RECHECK_MS = 250;

/**
 * The in-process queue of `slotsync run`: a {@link MemoryQueue} (SQS semantics) that consumers
 * can wait on instead of polling, and that tells when everything sent has been handled.
 *
 * Retries never end here: a message that failed comes back after a backoff until it succeeds
 * (or `processBatch` dead-letters it for a reason of its own). SQS's receive count limit exists
 * to protect a queue that outlives its consumers; this one does not, and the poller waits for it.
 */
export class LocalQueue extends MemoryQueue {
  private readonly listeners = new Set<() => void>();
  private failure: unknown;

  constructor(options: { now?: () => number } = {}) {
    super({
      maxReceiveCount: Number.POSITIVE_INFINITY,
      visibilityTimeoutMs: IN_FLIGHT_MS,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  override async publish(messages: readonly QueueMessage[]): Promise<void> {
    await super.publish(messages);
    this.notify();
  }

  override acknowledge(messages: readonly ReceivedMessage[]): void {
    super.acknowledge(messages);
    this.notify();
  }

  override retryLater(message: ReceivedMessage, delayMs: number): void {
    super.retryLater(message, delayMs);
    setTimeout(() => this.notify(), delayMs).unref();
  }

  /**
   * Resolves when a message arrives, is acknowledged or becomes visible again, after at most
   * `timeoutMs`, or on abort. It also wakes up now and then on its own: a retry's timer can fire
   * a moment before the message's visibility time has passed, and no other notification follows.
   */
  waitForMessages(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return this.changed(signal, Math.min(timeoutMs, RECEIVE_RECHECK_MS));
  }

  /** Consumers hit an error retrying cannot fix: waiting publishers fail with it. */
  fail(error: unknown): void {
    this.failure ??= error;
    this.notify();
  }

  /**
   * Resolves once every message sent has been acknowledged. Calls `onWait` at least every
   * `intervalMs` while waiting (to keep the poller's lease alive); rejects with the consumers'
   * fatal error, or with `onWait`'s.
   */
  async drained(options: { intervalMs?: number; onWait?: () => Promise<void> } = {}): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      if (this.pending() === 0) return;
      await this.changed(undefined, options.intervalMs ?? 10_000);
      if (options.onWait) await options.onWait();
    }
  }

  /** Wakes every waiter (a message arrived, was acknowledged, or became visible again). */
  notify(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }

  private changed(signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.listeners.delete(done);
        resolve();
      };
      this.listeners.add(done);
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/**
 * The poller's publisher for the in-process queue. It resolves only once consumers have indexed
 * everything it sent (and whatever that work queued in turn), so the poller advances the slot only
 * past changes that reached the index. Keys held in memory are therefore never the only copy: a
 * crash or a forced stop replays them from the slot. While it waits it keeps the poller's lease.
 */
export class DrainingPublisher implements HandoffPublisher {
  constructor(
    private readonly queue: LocalQueue,
    private readonly keepAlive: () => Promise<void>,
  ) {}

  async publish(handoffs: Parameters<HandoffPublisher["publish"]>[0]): Promise<void> {
    const messages = handoffMessages(handoffs);
    if (messages.length === 0) return;
    await this.queue.publish(messages);
    await this.queue.drained({ onWait: this.keepAlive });
  }
}
