import { retryTransient } from "./isolate";
import type { ConsumerDeps, IndexWork } from "./types";

/**
 * Range records that fail on their last delivery: SQS moves them to the DLQ itself (after
 * `maxReceives` deliveries), without a word to the bootstrap. Their ranges are marked failed here,
 * with the error, so `status` shows them, the monitor alerts and `bootstrap --resume` sends them
 * again after the fix. Returns the error of a mark that could not be written, if any.
 */
export async function markExhaustedRanges(
  work: Map<string, IndexWork>,
  failed: ReadonlySet<string>,
  deps: ConsumerDeps,
  error: unknown,
): Promise<unknown> {
  const { rangeFailed, maxReceives } = deps;
  if (!rangeFailed || maxReceives === undefined || failed.size === 0) return undefined;
  const why = error instanceof Error ? error.message : error === undefined ? "it failed" : String(error);
  let markError: unknown;
  for (const w of work.values()) {
    for (const { record, message } of w.ranges) {
      if (!failed.has(record.messageId)) continue;
      const deliveries = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      if (!(deliveries >= maxReceives)) continue;
      const reason = `dead-lettered by SQS after ${deliveries} deliveries: ${why}`;
      await retryTransient(
        () => rangeFailed(message.bootstrapId, message.rangeId, reason),
        deps.sleep ? { sleep: deps.sleep } : {},
      ).catch((e: unknown) => {
        markError ??= e;
      });
    }
  }
  return markError;
}
