import type { CheckpointStore, Lease } from "../checkpoint";
import type {
  Handoff,
  HandoffPublisher,
  PollerCheckpoint,
  PollerHeartbeat,
  PollerStateStore,
  TransactionProgress,
} from "../poller";
import { type KeyPublisher, packKeys, type QueueMessage } from "../queue";
import type { ReconcileProgress, ReconcileProgressStore } from "../reconcile";

/** Turns the poller's handoffs into version-1 queue messages, keys packed to the size limits. */
export function handoffMessages(
  handoffs: readonly Handoff[],
  sentAt = new Date().toISOString(),
): QueueMessage[] {
  const messages: QueueMessage[] = [];
  for (const h of handoffs) {
    switch (h.kind) {
      case "keys":
        messages.push(...packKeys({ index: h.index, keys: h.keys, lsn: h.version, sentAt }));
        break;
      case "clear":
        messages.push({ kind: "truncate", index: h.index, lsn: h.version, sentAt });
        break;
      case "rebuild":
        messages.push({ kind: "rebuild", index: h.index, lsn: h.version, sentAt });
        break;
    }
  }
  return messages;
}

/** The poller's publisher port over a queue publisher (SQS or the in-process queue). */
export class QueueHandoffPublisher implements HandoffPublisher {
  constructor(private readonly queue: KeyPublisher) {}

  async publish(handoffs: Handoff[]): Promise<void> {
    const messages = handoffMessages(handoffs);
    if (messages.length > 0) await this.queue.publish(messages);
  }
}

/**
 * Reconcile progress in the checkpoint store, one record per running job beside the drift records
 * (`reconcile-<job id>`), removed when the job is done.
 */
export class CheckpointReconcileStore implements ReconcileProgressStore {
  constructor(
    private readonly store: Pick<CheckpointStore, "readDrift" | "writeDrift" | "clearDrift">,
    private readonly slot: string,
  ) {}

  async read(jobId: string): Promise<ReconcileProgress | null> {
    const record = (await this.store.readDrift(this.slot))[`reconcile-${jobId}`];
    return record?.v === 1 && typeof record.phase === "string"
      ? (record as unknown as ReconcileProgress)
      : null;
  }

  async write(jobId: string, progress: ReconcileProgress): Promise<void> {
    await this.store.writeDrift(
      this.slot,
      `reconcile-${jobId}`,
      progress as unknown as Record<string, unknown>,
    );
  }

  async clear(jobId: string): Promise<void> {
    await this.store.clearDrift(this.slot, `reconcile-${jobId}`);
  }
}

/** The checkpoint-store record (beside the drift records) holding the leaf partitions handed on last. */
const LEAVES_RECORD = "partitions";
/** The drift record holding the column sets of all-columns tables the poller handed on last. */
const COLUMNS_RECORD = "columns";

/**
 * The checkpoint-store record holding the place inside a transaction handed on in part (LSNs as
 * decimal strings). Any writer's record is true (it names changes SQS accepted), so it needs no
 * fencing; it is ignored once the slot moved from `slotAt`.
 */
const PROGRESS_RECORD = "transaction-progress";

function parseProgress(record: Record<string, unknown> | undefined): TransactionProgress | null {
  if (record?.v !== 1) return null;
  const lsn = (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) ? BigInt(v) : undefined);
  const endLsn = lsn(record.endLsn);
  const slotAt = lsn(record.slotAt);
  const handedOnThrough = lsn(record.handedOnThrough);
  const { xid, changes, startedAt } = record;
  if (endLsn === undefined || slotAt === undefined || handedOnThrough === undefined) return null;
  if (typeof xid !== "number" || typeof changes !== "number" || typeof startedAt !== "string") return null;
  return { xid, endLsn, slotAt, handedOnThrough, changes, startedAt };
}

/** The poller's state port over a checkpoint store and its lease (Upstash or a local file). */
export class CheckpointPollerState implements PollerStateStore {
  constructor(private readonly store: CheckpointStore & Lease) {}

  async acquire(slot: string, holder: string, ttlMs: number): Promise<{ token: number } | null> {
    const grant = await this.store.acquire(slot, holder, ttlMs);
    return grant ? { token: grant.token } : null;
  }

  renew(slot: string, token: number, ttlMs: number): Promise<boolean> {
    return this.store.renew({ slot, token, ttlMs }, ttlMs);
  }

  async release(slot: string, token: number): Promise<void> {
    await this.store.release({ slot, token });
  }

  async checkpoint(slot: string, token: number, checkpoint: PollerCheckpoint): Promise<void> {
    const now = new Date().toISOString();
    await this.store.writeCheckpoint(
      { slot, token },
      {
        lsn: checkpoint.lsn.toString(),
        committedAt: null,
        updatedAt: now,
        counts: { transactions: checkpoint.transactions, changes: checkpoint.changes, keys: checkpoint.keys },
      },
    );
  }

  /** A list of texts kept in a drift record's field; null when absent or not one. */
  private async readTexts(slot: string, record: string, field: string): Promise<string[] | null> {
    const value = (await this.store.readDrift(slot))[record]?.[field];
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
  }

  readLeaves(slot: string): Promise<string[] | null> {
    return this.readTexts(slot, LEAVES_RECORD, "leaves");
  }

  async writeLeaves(slot: string, _token: number, leaves: string[]): Promise<void> {
    await this.store.writeDrift(slot, LEAVES_RECORD, { v: 1, leaves, updatedAt: new Date().toISOString() });
  }

  readColumns(slot: string): Promise<string[] | null> {
    return this.readTexts(slot, COLUMNS_RECORD, "columns");
  }

  async writeColumns(slot: string, _token: number, columns: string[]): Promise<void> {
    await this.store.writeDrift(slot, COLUMNS_RECORD, { v: 1, columns, updatedAt: new Date().toISOString() });
  }

  async readProgress(slot: string): Promise<TransactionProgress | null> {
    return parseProgress((await this.store.readDrift(slot))[PROGRESS_RECORD]);
  }

  async writeProgress(slot: string, _token: number, progress: TransactionProgress | null): Promise<void> {
    if (progress === null) {
      await this.store.clearDrift(slot, PROGRESS_RECORD);
      return;
    }
    await this.store.writeDrift(slot, PROGRESS_RECORD, {
      v: 1,
      xid: progress.xid,
      endLsn: progress.endLsn.toString(),
      slotAt: progress.slotAt.toString(),
      handedOnThrough: progress.handedOnThrough.toString(),
      changes: progress.changes,
      startedAt: progress.startedAt,
      updatedAt: new Date().toISOString(),
    });
  }

  async heartbeat(slot: string, token: number, heartbeat: PollerHeartbeat): Promise<void> {
    const seconds = Math.max(heartbeat.durationMs, 1) / 1000;
    await this.store.writeStats(
      { slot, token },
      {
        lastPollAt: heartbeat.at.toISOString(),
        lastSuccessAt: heartbeat.at.toISOString(),
        lagBytes: Number(heartbeat.lagBytes),
        changesPerSecond: Math.round(heartbeat.changes / seconds),
        keysPerSecond: Math.round(heartbeat.keys / seconds),
      },
    );
  }
}
