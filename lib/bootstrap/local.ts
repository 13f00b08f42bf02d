import {
  type ConsumerDeps,
  type ConsumerOptions,
  DEFAULT_CONSUMER_OPTIONS,
  isFatal,
  processBatch,
} from "../consumer";
import { eventFromReceived, type MemoryQueue } from "../queue";

export interface LocalConsumerOptions {
  /** Batches processed at once (like concurrent Lambda consumers). Default 2. */
  concurrency?: number;
  /** Messages per batch (SQS allows 10 per receive). Default 10. */
  batchSize?: number;
  /** Return once the queue has no visible and no in-flight message. Default true. */
  stopWhenIdle?: boolean;
  /** Pause when nothing is visible. Default 50 ms. */
  idleMs?: number;
  /** A failed record becomes visible again after this long (SQS: the visibility timeout). Default 1000 ms. */
  retryAfterMs?: number;
  signal?: AbortSignal;
  consumer?: ConsumerOptions;
  sleep?: (ms: number) => Promise<void>;
}

export interface LocalConsumerStats {
  batches: number;
  records: number;
  /** Records reported as failed (delivered again). */
  failed: number;
  documents: number;
}

/**
 * Runs the consumer in process over a {@link MemoryQueue}, as the SQS event source does in AWS:
 * receive a batch, `processBatch`, delete what succeeded, let failures come back. Local mode
 * (`slotsync bootstrap` without SQS) and the integration tests copy through it.
 *
 * An error retrying cannot fix (`isFatal`: bad credentials, missing privileges, an invalid query)
 * stops every worker after its current batch, and the returned promise rejects with it, as
 * `slotsync run` does: retrying it for ever would only hide it. Its records stay in the queue.
 * @throws the first fatal batch error.
 */
export async function runLocalConsumers(
  queue: MemoryQueue,
  deps: ConsumerDeps,
  options: LocalConsumerOptions = {},
): Promise<LocalConsumerStats> {
  const stats: LocalConsumerStats = { batches: 0, records: 0, failed: 0, documents: 0 };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stopWhenIdle = options.stopWhenIdle ?? true;
  let busy = 0;
  let fatal: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!options.signal?.aborted && !fatal) {
      const received = queue.receive({ maxMessages: options.batchSize ?? 10 });
      if (received.length === 0) {
        const counts = queue.counts();
        if (stopWhenIdle && busy === 0 && counts.visible === 0 && counts.inFlight === 0) return;
        await sleep(options.idleMs ?? 50);
        continue;
      }
      busy++;
      try {
        const result = await processBatch(eventFromReceived(received), deps, {
          ...(options.consumer ?? DEFAULT_CONSUMER_OPTIONS),
        });
        const failed = new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const m of received) {
          if (failed.has(m.messageId)) queue.changeVisibility(m.receiptHandle, options.retryAfterMs ?? 1000);
          else queue.delete(m.receiptHandle);
        }
        stats.batches++;
        stats.records += received.length;
        stats.failed += failed.size;
        stats.documents += result.stats.documents;
        if (isFatal(result.error)) fatal ??= { error: result.error };
      } catch (error) {
        // processBatch itself threw (e.g. the checkpoint store was unreachable in rangeDone):
        // the whole batch comes again, as it would in Lambda.
        for (const m of received) queue.changeVisibility(m.receiptHandle, options.retryAfterMs ?? 1000);
        stats.failed += received.length;
        if (isFatal(error)) fatal ??= { error };
      } finally {
        busy--;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 2 }, () => worker()));
  if (fatal) throw fatal.error;
  return stats;
}
