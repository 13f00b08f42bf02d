import type { SinkOutcome, StreamOperation, WriteStats } from "../types";

/** Counters of a finished stream write, from its outcomes. */
export function streamWriteStats(
  outcomes: readonly SinkOutcome<StreamOperation>[],
  counters: { requests: number; bytes: number; retried: number; durationMs: number },
): WriteStats {
  const stats: WriteStats = {
    operations: outcomes.length,
    indexed: 0,
    deleted: 0,
    stale: 0,
    rejected: 0,
    retryable: 0,
    ...counters,
  };
  for (const outcome of outcomes) {
    if (outcome.status === "ok") {
      // A truncate counts as a delete: it removes documents.
      if (outcome.op.kind === "index") stats.indexed++;
      else stats.deleted++;
    } else stats[outcome.status]++;
  }
  return stats;
}
