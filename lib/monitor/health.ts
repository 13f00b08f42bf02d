import type { CheckpointStore } from "../checkpoint";
import { formatLsn } from "../slot";
import type { BootstrapSummary, SyncHealth } from "./types";

/** The parts of the checkpoint store the monitor reads and writes. */
export type MonitorStore = Pick<
  CheckpointStore,
  "readStats" | "readCheckpoint" | "listBootstraps" | "readBootstrap" | "readAlert" | "writeAlert"
> &
  /** Schema drift records (lib/drift); without them no drift alert. */
  Partial<Pick<CheckpointStore, "readDrift">>;

/**
 * The sync's own health for a slot: the poller's heartbeat and throughput, its checkpoint, and the
 * newest bootstrap. Throws when the store cannot be read.
 */
export async function readSyncHealth(store: MonitorStore, slot: string, now: Date): Promise<SyncHealth> {
  const [stats, checkpoint, bootstrapIds] = await Promise.all([
    store.readStats(slot),
    store.readCheckpoint(slot),
    store.listBootstraps(slot),
  ]);
  const newest = bootstrapIds[0];
  const progress = newest === undefined ? null : await store.readBootstrap(slot, newest);
  const lastSuccessAt = stats?.lastSuccessAt ?? null;
  let bootstrap: BootstrapSummary | null = null;
  if (progress) {
    const { ranges, lsn: _lsn, ...summary } = progress;
    bootstrap = summary;
    const failure = firstFailedRange(ranges);
    if (failure) bootstrap.firstFailure = failure;
  }
  return {
    lastPollAt: stats?.lastPollAt ?? null,
    lastSuccessAt,
    secondsSinceLastSuccess:
      lastSuccessAt === null ? null : Math.max(0, (now.getTime() - Date.parse(lastSuccessAt)) / 1000),
    lagBytesAtLastPoll: stats?.lagBytes ?? null,
    changesPerSecond: stats?.changesPerSecond ?? null,
    keysPerSecond: stats?.keysPerSecond ?? null,
    checkpoint: checkpoint
      ? { lsn: formatLsn(BigInt(checkpoint.lsn)), updatedAt: checkpoint.updatedAt }
      : null,
    bootstrap,
  };
}

/** The failed range that sorts first (range ids sort in key order), with its error. */
export function firstFailedRange(
  ranges: Readonly<Record<string, { status: string; error?: string }>>,
): { rangeId: string; error: string } | undefined {
  const id = Object.keys(ranges)
    .filter((r) => ranges[r]?.status === "failed")
    .sort()[0];
  return id === undefined ? undefined : { rangeId: id, error: ranges[id]?.error ?? "no reason recorded" };
}
