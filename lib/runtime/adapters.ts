import type { CheckpointStore, Lease } from "../checkpoint";
import type {
  Handoff,
  HandoffPublisher,
  PollerCheckpoint,
  PollerHeartbeat,
  PollerStateStore,
} from "../poller";
import { type KeyPublisher, packKeys, type QueueMessage } from "../queue";

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
