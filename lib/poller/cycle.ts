import type pg from "pg";
import type { AffectedKeys, ChangeResolver, RowChange } from "../resolve";
import type { Lsn, SlotReader, WalChange } from "../slot";
import { watchColumns } from "./columns";
import { scanLeaf, watchLeaves } from "./partitions";
import type { Handoff, HandoffPublisher, LeafSetStore, TransactionProgressStore } from "./ports";
import {
  DEFAULT_LARGE_TRANSACTION_CHANGES,
  DEFAULT_LARGE_TRANSACTION_REPORT_MS,
  type LargeTransactionReport,
  TransactionTracker,
} from "./progress";
import { waitUntilVisible } from "./visibility";

export interface CycleOptions {
  /** Rows per FETCH from the peek cursor at most. */
  fetchSize: number;
  /** Bytes of decoded rows per FETCH, about (the row count adapts to the row width; default 8 MiB). */
  fetchBytes?: number;
  /**
   * Resolve buffered changes once their decoded rows reach this many bytes, even before
   * `resolveEvery` changes: wide rows are not held by the thousand (default 16 MiB).
   */
  resolveBytes?: number;
  /** `upto_nchanges` of one peek: how much one cycle decodes (whole transactions). */
  maxChangesPerCycle: number;
  /** Resolve buffered changes to keys once this many are waiting. */
  resolveEvery: number;
  /** Hand keys on once this many are waiting, even in the middle of a transaction. */
  publishEvery: number;
  /** How long to wait for decoded transactions to become visible. */
  visibilityTimeoutMs: number;
  /**
   * When (ms since epoch) a cycle still reading stops: it hands on what it read, advances past
   * the whole transactions among it, saves its place inside the open one (see `progress`) and
   * ends; the next cycle goes on from there. Unset: a cycle reads its peek to the end.
   */
  stopAt?: number;
  /** A transaction with this many changes is reported while in progress (default 100,000). */
  largeTransactionChanges?: number;
  /** Report interval of a large transaction (default 10 s). */
  largeTransactionReportMs?: number;
}

/** Default of {@link CycleOptions.resolveBytes}. */
export const DEFAULT_RESOLVE_BYTES = 16 * 1024 * 1024;

export const DEFAULT_CYCLE_OPTIONS: CycleOptions = {
  fetchSize: 5000,
  maxChangesPerCycle: 200_000,
  resolveEvery: 5000,
  publishEvery: 20_000,
  visibilityTimeoutMs: 10_000,
};

export interface CycleDeps {
  /** One connection: the peek cursor and the resolution queries share it. */
  db: pg.ClientBase;
  reader: SlotReader;
  resolver: ChangeResolver;
  publisher: HandoffPublisher;
  /**
   * Called right before the slot is advanced, after everything was handed on: throws (e.g.
   * {@link LeaseLostError}) when this poller may no longer advance the slot. The slot then stays
   * where it is, and the poller that holds the lease now replays what this one sent.
   */
  fence?: () => Promise<void>;
  /**
   * Where the leaf partitions seen last are kept, so that a partition attached or detached while no
   * poller ran is noticed too. Without it, changes are noticed only within this process.
   */
  leafSets?: LeafSetStore;
  /** The column sets of all-columns tables handed on last (lib/poller/columns.ts); same shape. */
  columnSets?: LeafSetStore;
  /**
   * Where the place inside a transaction handed on in part is kept, so that a later cycle (another
   * run) leaves out what was handed on. Without it a stopped transaction is read again whole.
   */
  progress?: TransactionProgressStore;
  /** Told about large transactions while they are handed on (log line, metric). */
  onLargeTransaction?: (report: LargeTransactionReport) => void;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

/**
 * The poller's lease was lost during a cycle (it expired and another poller took it): the slot was
 * not advanced. Not an error of the data: the run stops and the next scheduled run takes the lease.
 */
export class LeaseLostError extends Error {
  constructor(
    readonly slot: string,
    readonly token: number,
  ) {
    super(
      `the lease ${token} on slot "${slot}" was lost before the slot could be advanced; the slot was not advanced (the next poller replays the cycle)`,
    );
    this.name = "LeaseLostError";
  }
}

export interface CycleResult {
  transactions: number;
  changes: number;
  keys: number;
  handoffs: number;
  /** Where the slot was advanced to (the end of the last handed-on transaction), if anywhere. */
  advancedTo: Lsn | undefined;
  /** Updates that changed no column any document uses. */
  skipped: number;
  resolveQueries: number;
  /** Partitioned tables whose leaf partitions changed since the last cycle (reconcile queued). */
  partitionChanges: number;
  /** Tables of all-columns nodes whose columns changed since the last cycle (rebuild queued). */
  columnChanges: number;
  /** New partitions whose rows were read and handed on as keys (instead of a reconcile). */
  leafScans: number;
  /** The cycle reached `stopAt` before the end of its peek (its place is kept). */
  stopped: boolean;
}

/**
 * One poll: peek a bounded run of whole transactions, resolve their changes to root keys in
 * batches, hand the keys on, and only then advance the slot past the last transaction read.
 * A crash anywhere before the advance replays the same transactions next time; nothing is lost.
 */
export async function runCycle(
  deps: CycleDeps,
  options: CycleOptions = DEFAULT_CYCLE_OPTIONS,
): Promise<CycleResult> {
  const { db, reader, resolver, publisher } = deps;
  const indexNames = resolver.schema.indices.map((i) => i.spec.index);
  const result: CycleResult = {
    transactions: 0,
    changes: 0,
    keys: 0,
    handoffs: 0,
    advancedTo: undefined,
    skipped: 0,
    resolveQueries: 0,
    partitionChanges: 0,
    columnChanges: 0,
    leafScans: 0,
    stopped: false,
  };
  const now = deps.now ?? Date.now;
  const tracker = new TransactionTracker(reader, deps.progress, deps.onLargeTransaction, {
    largeChanges: options.largeTransactionChanges ?? DEFAULT_LARGE_TRANSACTION_CHANGES,
    reportEveryMs: options.largeTransactionReportMs ?? DEFAULT_LARGE_TRANSACTION_REPORT_MS,
    now,
  });
  let buffer: RowChange[] = [];
  let bufferBytes = 0;
  const resolveBytes = options.resolveBytes ?? DEFAULT_RESOLVE_BYTES;
  const pending: AffectedKeys = new Map();
  let pendingKeys = 0;
  let special: Handoff[] = [];
  let xids: number[] = [];
  /** End LSN of the newest transaction whose changes are in the current window. */
  let version: Lsn = 0n;
  let lastCommit: Lsn | undefined;
  /** Start of the current transaction's commit record: above every earlier transaction's end. */
  let commitStart: Lsn = 0n;

  const resolveBuffer = async (): Promise<void> => {
    if (buffer.length === 0) return;
    // A lookup row referenced by millions of roots: its keys are handed on page by page.
    const stats = await resolver.resolve(db, buffer, pending, {
      flushAt: options.publishEvery,
      flush: sendPending,
    });
    result.skipped += stats.skipped;
    result.resolveQueries += stats.queries;
    buffer = [];
    bufferBytes = 0;
    pendingKeys = 0;
    for (const keys of pending.values()) pendingKeys += keys.size;
  };

  /** Hands on the keys and operations found so far (empties `pending` in place: resolve fills it). */
  const sendPending = async (): Promise<void> => {
    const handoffs: Handoff[] = [...special];
    for (const [index, keys] of pending) {
      const name = indexNames[index];
      if (name === undefined || keys.size === 0) continue;
      handoffs.push({ kind: "keys", index: name, keys: [...keys.values()], version });
      result.keys += keys.size;
    }
    if (handoffs.length > 0) {
      await waitUntilVisible(db, xids, { timeoutMs: options.visibilityTimeoutMs });
      await publisher.publish(handoffs);
      result.handoffs += handoffs.length;
    }
    pending.clear();
    pendingKeys = 0;
    special = [];
    xids = [];
  };

  const publishPending = async (): Promise<void> => {
    await resolveBuffer();
    await sendPending();
  };

  // Leaf partitions are read again before every peek, so rows of a partition created since the
  // last cycle are decoded. Rows written to it before this read may have been filtered out by
  // an earlier peek, and ATTACH/DETACH write no rows at all: a changed leaf set queues a
  // reconcile of every index using the table, as a TRUNCATE of it would (the root's documents
  // are reconciled against its rows; an index that embeds it is rebuilt).
  const leafSet = await watchLeaves(deps, special, indexNames, result);
  if (leafSet && leafSet.scans.length > 0) {
    // The new partitions' rows as inserts, versioned at the slot's confirmed position (see
    // watchLeaves); the peek's transactions then carry their own, higher versions.
    const own = version;
    version = leafSet.version;
    for (const scan of leafSet.scans) {
      for await (const changes of scanLeaf(db, scan)) {
        buffer.push(...changes);
        await resolveBuffer();
        if (pendingKeys >= options.publishEvery) await publishPending();
      }
    }
    await publishPending();
    version = own;
    result.leafScans += leafSet.scans.length;
  }
  const columnSet = await watchColumns(deps, special, indexNames, result);
  const resume = await tracker.load();

  for await (const event of reader.peek({
    tables: resolver.tables().map((t) => ({ schema: t.schema, table: t.name })),
    fetchSize: options.fetchSize,
    ...(options.fetchBytes === undefined ? {} : { fetchBytes: options.fetchBytes }),
    uptoChanges: options.maxChangesPerCycle,
    ...(resume ? { resume } : {}),
  })) {
    switch (event.action) {
      case "B":
        await tracker.begin(event);
        xids.push(event.xid);
        commitStart = event.commitLsn;
        if (event.endLsn > version) version = event.endLsn;
        break;
      case "I":
      case "U":
      case "D":
        result.changes++;
        tracker.change(event.lsn);
        buffer.push(toRowChange(event));
        bufferBytes += event.bytes ?? 0;
        if (buffer.length >= options.resolveEvery || bufferBytes >= resolveBytes) await resolveBuffer();
        if (pendingKeys >= options.publishEvery) {
          await publishPending();
          await tracker.handedOn();
        }
        break;
      case "T":
        result.changes++;
        tracker.change(event.lsn);
        for (const effect of resolver.truncate({ schema: event.schema, name: event.table })) {
          const index = indexNames[effect.index];
          if (index === undefined) continue;
          // Clearing deletes what every earlier transaction wrote (their commits end at or before
          // this commit record starts); keys this same transaction writes afterwards carry its end
          // LSN, which is higher, so they survive the clear.
          special.push(
            effect.effect === "clear"
              ? { kind: "clear", index, version: commitStart }
              : { kind: "rebuild", index, version },
          );
        }
        break;
      case "C":
        result.transactions++;
        lastCommit = event.endLsn;
        tracker.commit();
        break;
      case "M":
        tracker.change(event.lsn);
        break;
    }
    if (options.stopAt !== undefined && now() >= options.stopAt) {
      result.stopped = true;
      break;
    }
  }
  await publishPending();
  if (leafSet) await leafSet.commit();
  if (columnSet) await columnSet.commit();
  if (lastCommit !== undefined || result.stopped) {
    // Fencing: a poller that lost its lease during the cycle (paused past the lease's time to
    // live, another poller took over) must not move the slot under its successor.
    await deps.fence?.();
  }
  if (lastCommit !== undefined) result.advancedTo = await reader.advance(lastCommit);
  if (result.stopped) {
    // Everything read was handed on: the open transaction's place is kept against the slot's
    // position after the advance.
    await tracker.pause(result.advancedTo !== undefined);
  } else {
    await tracker.finish(lastCommit !== undefined);
  }
  return result;
}

function toRowChange(event: WalChange): RowChange {
  const row = (columns: WalChange["columns"]) =>
    columns.length === 0 ? undefined : Object.fromEntries(columns.map((c) => [c.name, c.value]));
  return {
    table: { schema: event.schema, name: event.table },
    action: event.action,
    newRow: event.action === "D" ? undefined : row(event.columns),
    oldRow: event.action === "I" ? undefined : row(event.identity),
  };
}
