import { describe, expect, it } from "vitest";
import {
  type LargeTransactionReport,
  ProgressMismatchError,
  type TransactionProgress,
  type TransactionProgressStore,
} from "../../../lib/poller";
import { TransactionTracker } from "../../../lib/poller/progress";
import type { SlotInfo, SlotReader } from "../../../lib/slot";

function readerAt(position: bigint): SlotReader & { position: bigint } {
  const reader = {
    position,
    async info(): Promise<SlotInfo> {
      return {
        name: "s",
        plugin: "wal2json",
        database: "d",
        active: false,
        walStatus: "reserved",
        restartLsn: reader.position,
        confirmedFlushLsn: reader.position,
        retainedBytes: 0n,
        safeWalSize: null,
      };
    },
    peek(): AsyncGenerator<never> {
      throw new Error("not used");
    },
    async advance(lsn: bigint) {
      reader.position = lsn;
      return lsn;
    },
  };
  return reader;
}

function memoryStore(initial: TransactionProgress | null = null) {
  const writes: (TransactionProgress | null)[] = [];
  let record = initial;
  const store: TransactionProgressStore = {
    read: async () => record,
    write: async (progress) => {
      writes.push(progress);
      record = progress;
    },
  };
  return { store, writes, current: () => record };
}

/** A saved record of transaction 7 (commit end 5000), handed on through 1300, the slot at 1000. */
const saved = (overrides: Partial<TransactionProgress> = {}): TransactionProgress => ({
  xid: 7,
  endLsn: 5000n,
  slotAt: 1000n,
  handedOnThrough: 1300n,
  changes: 3,
  startedAt: "2026-01-01T00:00:00.000Z",
  ...overrides,
});

const begin = (xid: number, endLsn: bigint) => ({
  action: "B" as const,
  xid,
  commitLsn: endLsn - 8n,
  endLsn,
});

function tracker(reader: SlotReader, store: TransactionProgressStore | undefined, largeChanges = 3) {
  const reports: LargeTransactionReport[] = [];
  let t = 0;
  const made = new TransactionTracker(reader, store, (r) => reports.push(r), {
    largeChanges,
    reportEveryMs: 100,
    now: () => (t += 10),
  });
  return { tracker: made, reports };
}

describe("TransactionTracker", () => {
  it("saves the place inside a transaction once part of it was handed on, against the slot's position", async () => {
    const reader = readerAt(1000n);
    const { store, current } = memoryStore();
    const { tracker: t, reports } = tracker(reader, store);
    expect(await t.load()).toBeUndefined();
    await t.begin(begin(7, 5000n));
    for (const lsn of [1100n, 1200n, 1300n]) t.change(lsn);
    expect(reports.map((r) => r.state)).toEqual(["in-progress"]);
    await t.handedOn();
    expect(current()).toMatchObject({
      xid: 7,
      endLsn: 5000n,
      slotAt: 1000n,
      handedOnThrough: 1300n,
      changes: 3,
    });
  });

  it("a later cycle leaves out what was handed on and counts on from there", async () => {
    const reader = readerAt(1000n);
    const { store, current } = memoryStore(saved());
    const { tracker: t, reports } = tracker(reader, store);
    expect(await t.load()).toEqual({ xid: 7, afterLsn: 1300n });
    await t.begin(begin(7, 5000n));
    expect(reports.at(-1)).toMatchObject({ state: "in-progress", resumed: true, changes: 3 });
    t.change(1400n);
    t.commit();
    expect(reports.at(-1)).toMatchObject({ state: "done", changes: 4, startedAt: saved().startedAt });
    await t.finish(true);
    expect(current()).toBeNull();
  });

  it("ignores and removes a record once the slot moved away from where it was written", async () => {
    const { store, current } = memoryStore(saved({ slotAt: 900n }));
    const { tracker: t } = tracker(readerAt(1000n), store);
    expect(await t.load()).toBeUndefined();
    expect(current()).toBeNull();
  });

  it("refuses a record that names another commit for the same xid, and removes it", async () => {
    const { store, current } = memoryStore(saved());
    const { tracker: t } = tracker(readerAt(1000n), store);
    await t.load();
    await expect(t.begin(begin(7, 6000n))).rejects.toBeInstanceOf(ProgressMismatchError);
    expect(current()).toBeNull();
  });

  it("pausing after an advance keeps the place against the slot's new position", async () => {
    const reader = readerAt(1000n);
    const { store, current } = memoryStore();
    const { tracker: t, reports } = tracker(reader, store, 100);
    await t.load();
    await t.begin(begin(3, 1200n));
    t.change(1100n);
    t.commit();
    await t.begin(begin(7, 5000n));
    t.change(1150n);
    await reader.advance(1200n);
    await t.pause(true);
    expect(current()).toMatchObject({ xid: 7, slotAt: 1200n, handedOnThrough: 1150n, changes: 1 });
    expect(reports.map((r) => r.state)).toEqual(["paused"]);
  });

  it("without a store, only reports", async () => {
    const { tracker: t, reports } = tracker(readerAt(1000n), undefined, 2);
    expect(await t.load()).toBeUndefined();
    await t.begin(begin(7, 5000n));
    t.change(1100n);
    t.change(1200n);
    await t.handedOn();
    await t.pause(false);
    expect(reports.map((r) => [r.state, r.changes])).toEqual([
      ["in-progress", 2],
      ["paused", 2],
    ]);
  });
});
