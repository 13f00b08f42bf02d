import {
  type ConsumerQueue,
  eventFromReceived,
  type ReceivedMessage,
  type SqsBatchResponse,
  type SqsEvent,
} from "../queue";
import { processBatch } from "./batch";
import { isFatal } from "./fatal";
import { type BatchStats, type ConsumerDeps, type ConsumerOptions, emptyBatchStats } from "./types";

/**
 * What handles one batch: {@link processBatch} with its deps (see {@link batchHandler}), or the
 * consumer Lambda's handler itself (benchmarks, chaos), which reports only the response.
 */
export type BatchHandler = (event: SqsEvent) => Promise<{
  response: SqsBatchResponse;
  stats?: BatchStats;
  /** An error the batch hit; {@link isFatal} ones stop the loop. */
  error?: unknown;
}>;

/** {@link processBatch} over `deps`, as the consumer Lambda runs it. */
export function batchHandler(deps: ConsumerDeps, options?: ConsumerOptions): BatchHandler {
  return (event) => processBatch(event, deps, options);
}

/** Options of {@link runConsumerLoop}. */
export interface ConsumerLoopOptions {
  /** Batches handled at once (like concurrent Lambda consumers). Default 2. */
  concurrency?: number;
  /** Messages per batch (SQS allows 10 per receive). Default 10. */
  batchSize?: number;
  /**
   * When the loop returns on its own: once this is (or returns) true, a receive begun after that
   * found nothing, no batch is being handled and the queue has nothing pending. `true` (the
   * default) drains the queue and returns; `false` runs until aborted or a fatal error;
   * a function, e.g. "the poller has stopped", decides as it goes.
   */
  stopWhenIdle?: boolean | (() => boolean);
  /** Longest pause after an empty receive (the queue's `waitForMessages` may end it sooner). Default 50 ms. */
  idleMs?: number;
  /** Delay before a failed message comes again, by its receive count. Default {@link retryDelayMs}. */
  retryDelayMs?: (receiveCount: number) => number;
  /** Aborting stops every worker after its current batch. */
  signal?: AbortSignal;
  /** Called after every batch, and with an error when a receive or an acknowledgement failed. */
  onBatch?: (outcome: BatchOutcome) => void;
  /** Called once, at once, with the first error retrying cannot fix (before the loop rejects). */
  onFatal?: (error: unknown) => void;
}

/** One batch as {@link ConsumerLoopOptions.onBatch} reports it. */
export interface BatchOutcome {
  /** The messages of the batch (none for a failed receive or acknowledgement). */
  messages: readonly ReceivedMessage[];
  /** The handler's stats, or counts made from the response when it gave none. */
  stats: BatchStats;
  /** Records reported as failed (they come again). */
  failed: number;
  error?: unknown;
  /** How long the handler took. */
  durationMs: number;
}

/** Totals of one {@link runConsumerLoop}. */
export interface ConsumerLoopStats {
  batches: number;
  records: number;
  /** Records reported as failed (delivered again). */
  failed: number;
  documents: number;
}

/** Delay before a failed message comes again: 0.5 s doubling to 30 s. */
export function retryDelayMs(receiveCount: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, Math.min(receiveCount - 1, 10)));
}

/**
 * The in-process consumer, as the SQS event source runs the consumer Lambda in AWS: workers
 * receive a batch, hand it to `handle`, acknowledge what succeeded and let the failures come
 * again after {@link retryDelayMs}. `slotsync run` (in-process queue or SQS), `slotsync bootstrap`
 * without SQS, the benchmarks and the chaos run all consume through it.
 *
 * An error retrying cannot fix ({@link isFatal}: bad credentials, missing privileges, an invalid
 * query) stops every worker after its current batch, and the returned promise rejects with it:
 * retrying it for ever would only hide it. Its records stay in the queue. A handler that throws
 * fails its whole batch (it comes again), as in Lambda; a failed receive is retried with backoff.
 * @throws the first fatal error.
 */
export async function runConsumerLoop(
  queue: ConsumerQueue,
  handle: BatchHandler,
  options: ConsumerLoopOptions = {},
): Promise<ConsumerLoopStats> {
  const stats: ConsumerLoopStats = { batches: 0, records: 0, failed: 0, documents: 0 };
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const stopWhenIdle = options.stopWhenIdle ?? true;
  const idle = () => (typeof stopWhenIdle === "function" ? stopWhenIdle() : stopWhenIdle);
  const delay = options.retryDelayMs ?? retryDelayMs;
  const idleMs = options.idleMs ?? 50;
  let busy = 0;
  let fatal: { error: unknown } | undefined;
  const seen = (error: unknown) => {
    if (fatal || !isFatal(error)) return;
    fatal = { error };
    stop.abort();
    options.onFatal?.(error);
  };
  const report = (outcome: BatchOutcome) => {
    options.onBatch?.(outcome);
    seen(outcome.error);
  };

  const worker = async (): Promise<void> => {
    let receiveErrors = 0;
    while (!stop.signal.aborted) {
      // Only a receive that began once idling was allowed proves the queue drained.
      const mayStop = idle();
      let received: ReceivedMessage[];
      try {
        received = await queue.receive({ maxMessages: options.batchSize ?? 10, signal: stop.signal });
        receiveErrors = 0;
      } catch (error) {
        if (stop.signal.aborted) return;
        report(failedCall(error));
        await pause(retryDelayMs(++receiveErrors), stop.signal);
        continue;
      }
      if (received.length === 0) {
        if (mayStop && busy === 0 && (queue.pending?.() ?? 0) === 0) return;
        await (queue.waitForMessages?.(idleMs, stop.signal) ?? pause(idleMs, stop.signal));
        continue;
      }
      busy++;
      try {
        const { outcome, ackError } = await settleBatch(queue, handle, received, delay);
        stats.batches++;
        stats.records += received.length;
        stats.failed += outcome.failed;
        stats.documents += outcome.stats.documents;
        report(outcome);
        if (ackError !== undefined) report(failedCall(ackError));
      } finally {
        busy--;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 2 }, () => worker()));
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (fatal) throw fatal.error;
  return stats;
}

/**
 * Hands one batch to `handle` and settles its messages: the failed ones come again after `delay`,
 * the others are acknowledged. An acknowledgement that failed is returned apart: those messages
 * come again and are written again, idempotently (same versions).
 */
async function settleBatch(
  queue: ConsumerQueue,
  handle: BatchHandler,
  received: ReceivedMessage[],
  delay: (receiveCount: number) => number,
): Promise<{ outcome: BatchOutcome; ackError?: unknown }> {
  const started = Date.now();
  let result: Awaited<ReturnType<BatchHandler>>;
  try {
    result = await handle(eventFromReceived(received));
  } catch (error) {
    // The handler itself threw (e.g. the checkpoint store was unreachable): the whole batch
    // comes again, as it would in Lambda.
    result = {
      response: { batchItemFailures: received.map((m) => ({ itemIdentifier: m.messageId })) },
      error,
    };
  }
  const durationMs = Date.now() - started;
  const failedIds = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
  const failed = received.filter((m) => failedIds.has(m.messageId));
  const done = received.filter((m) => !failedIds.has(m.messageId));
  for (const m of failed) await queue.retryLater(m, delay(m.receiveCount));
  let ackError: unknown;
  if (done.length > 0) {
    try {
      await queue.acknowledge(done);
    } catch (error) {
      ackError = error;
    }
  }
  const outcome: BatchOutcome = {
    messages: received,
    stats: result.stats ?? { ...emptyBatchStats(received.length), failed: failed.length, durationMs },
    failed: failed.length,
    ...(result.error === undefined ? {} : { error: result.error }),
    durationMs,
  };
  return ackError === undefined ? { outcome } : { outcome, ackError };
}

/** A receive or an acknowledgement that failed, as {@link ConsumerLoopOptions.onBatch} hears it. */
function failedCall(error: unknown): BatchOutcome {
  return { messages: [], stats: emptyBatchStats(), failed: 0, error, durationMs: 0 };
}

/** Resolves after `ms`, or at once when `signal` is (or becomes) aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
