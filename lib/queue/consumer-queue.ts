import type { ReceivedMessage } from "./memory";

/**
 * What the in-process consumer loop (`runConsumerLoop` in lib/consumer) needs of a queue. The
 * {@link MemoryQueue} (bootstrap without SQS, tests), the notifying queue of `slotsync run` and
 * {@link SqsConsumerQueue} (SQS outside Lambda: `run` with SQS_QUEUE_URL, benchmarks, chaos)
 * implement it, so they are all consumed by the same loop with the same rules.
 */
export interface ConsumerQueue {
  /**
   * Up to `maxMessages` messages, hidden from other receivers until acknowledged or released.
   * May wait a bounded time for some (an SQS long poll); an empty list when none came.
   */
  receive(options: {
    maxMessages: number;
    signal?: AbortSignal;
  }): ReceivedMessage[] | Promise<ReceivedMessage[]>;
  /** The messages were handled: remove them for good. */
  acknowledge(messages: readonly ReceivedMessage[]): void | Promise<void>;
  /**
   * The message failed: offer it again after `delayMs`. A queue may keep its own timing instead
   * (SQS leaves it to the visibility timeout, as the Lambda event source does).
   */
  retryLater(message: ReceivedMessage, delayMs: number): void | Promise<void>;
  /**
   * Messages sent and not yet acknowledged (visible, in a consumer's hands or waiting to retry),
   * when the queue can tell; an SQS queue cannot, and an empty receive is taken as drained.
   */
  pending?(): number;
  /**
   * Resolves when a receive may find something new, after at most `timeoutMs`, or at once on
   * abort. Without it the loop pauses `timeoutMs` after an empty receive.
   */
  waitForMessages?(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}
