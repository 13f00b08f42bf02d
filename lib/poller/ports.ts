import type pg from "pg";
import type { Lsn } from "../slot";

/**
 * What the poller hands on. `keys`: rebuild these documents. `clear`: root rows went without row
 * changes (the root or one of its partitions was truncated, a partition detached or attached):
 * reconcile the index with the root table. `rebuild`: a table below the root lost rows the same way:
 * rebuild every document and reconcile. `version` is the version the work writes with.
 */
export type Handoff =
  | { kind: "keys"; index: string; keys: string[][]; version: Lsn }
  | { kind: "clear"; index: string; version: Lsn }
  | { kind: "rebuild"; index: string; version: Lsn };

/** The next stage. Resolves only when every handoff was accepted (SQS said yes to each entry). */
export interface HandoffPublisher {
  publish(handoffs: Handoff[]): Promise<void>;
}

/**
 * The leaf partitions (as `leafKey` texts) handed on last, kept across poller runs.
 * `read` returns null before the first write.
 */
export interface LeafSetStore {
  read(): Promise<string[] | null>;
  write(leaves: string[]): Promise<void>;
}

/**
 * How far a transaction too large for one cycle has been handed on, kept across poller runs so a
 * run that stopped inside it (its deadline, a crash) is followed by one that starts where it
 * stopped. A peek returns the whole transaction again; the changes at or below `handedOnThrough`
 * are left out. Valid only while the slot still stands at `slotAt`.
 */
export interface TransactionProgress {
  xid: number;
  /** End of the transaction's commit record: with `xid`, names the transaction. */
  endLsn: Lsn;
  /** The slot's confirmed position when this was written. */
  slotAt: Lsn;
  /** Every change of the transaction at or below this LSN was accepted by the next stage. */
  handedOnThrough: Lsn;
  /** Changes of the transaction handed on so far. */
  changes: number;
  /** When the first run began handing this transaction on (ISO 8601). */
  startedAt: string;
}

/** Where {@link TransactionProgress} is kept for the slot a poller works on (its lease held). */
export interface TransactionProgressStore {
  read(): Promise<TransactionProgress | null>;
  /** Replaces the record; null removes it. */
  write(progress: TransactionProgress | null): Promise<void>;
}

/** Progress record written after the slot was advanced. */
export interface PollerCheckpoint {
  lsn: Lsn;
  transactions: number;
  changes: number;
  keys: number;
}

/** Heartbeat and throughput, for the monitor and `slotsync status`. */
export interface PollerHeartbeat {
  /** When the cycle finished. */
  at: Date;
  /** Bytes of WAL between the server's current position and what the slot has confirmed. */
  lagBytes: bigint;
  transactions: number;
  changes: number;
  keys: number;
  durationMs: number;
}

/** Where the poller keeps its state (Upstash Redis in Lambda, a file locally). */
export interface PollerStateStore {
  /** Takes the slot's lease; null when another poller holds it. */
  acquire(slot: string, holder: string, ttlMs: number): Promise<{ token: number } | null>;
  /** Extends the lease; false when it was lost (expired and taken by another). */
  renew(slot: string, token: number, ttlMs: number): Promise<boolean>;
  release(slot: string, token: number): Promise<void>;
  /** Writes the checkpoint, refused when `token` is no longer the current lease. */
  checkpoint(slot: string, token: number, checkpoint: PollerCheckpoint): Promise<void>;
  /** Records the heartbeat, fenced like the checkpoint. */
  heartbeat(slot: string, token: number, heartbeat: PollerHeartbeat): Promise<void>;
  /** The leaf partitions handed on last (see {@link LeafSetStore}); optional for stores that keep none. */
  readLeaves?(slot: string): Promise<string[] | null>;
  writeLeaves?(slot: string, token: number, leaves: string[]): Promise<void>;
  /** The column sets of all-columns tables handed on last (lib/poller/columns.ts); optional too. */
  readColumns?(slot: string): Promise<string[] | null>;
  writeColumns?(slot: string, token: number, columns: string[]): Promise<void>;
  /** Progress inside a large transaction (see {@link TransactionProgress}); optional like the leaves. */
  readProgress?(slot: string): Promise<TransactionProgress | null>;
  writeProgress?(slot: string, token: number, progress: TransactionProgress | null): Promise<void>;
}

/**
 * Schema drift watch (lib/drift `DriftGuard`): checked before cycles (at its own interval) and after
 * a failed cycle. A verdict other than `ok` stops the run before anything is handed on or the slot
 * advanced: the changes stay in the slot until the schema matches the database again.
 */
export interface PollerDriftGate {
  beforeCycle(db: pg.ClientBase): Promise<DriftGateVerdict>;
  afterFailure(db: pg.ClientBase, error: unknown): Promise<DriftGateVerdict>;
}

/** `drift`: the database no longer matches the schema; `reload`: resolve the schema again first. */
export type DriftGateVerdict = { status: "ok" } | { status: "drift" | "reload"; error: Error };
