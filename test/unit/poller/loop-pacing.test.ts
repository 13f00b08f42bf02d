import { describe, expect, it } from "vitest";
import { type PollerLoopDeps, runPollerLoop } from "../../../lib/poller";
import type { ChangeResolver } from "../../../lib/resolve";
import type { SlotReader, WalEvent } from "../../../lib/slot";

/**
 * A slot that always holds `changes` new row changes in one transaction (of a table no index
 * watches, so nothing is sent), and a clock that moves only when the loop sleeps.
 */
function busySlot(changes: number) {
  let clock = 0;
  const sleeps: number[] = [];
  let lsn = 100n;
  const deps: PollerLoopDeps = {
    db: { query: async () => ({ rows: [{ lag: "0" }] }) } as never,
    reader: {
      async *peek(): AsyncGenerator<WalEvent> {
        lsn += 10n;
        const tx = { xid: 7, commitLsn: lsn, endLsn: lsn + 1n };
        yield { action: "B", ...tx };
        for (let i = 0; i < changes; i++) {
          yield {
            action: "I",
            xid: 7,
            schema: "public",
            table: "other",
            columns: [],
            identity: [],
            pk: [],
            lsn,
          };
        }
        yield { action: "C", ...tx };
      },
      advance: async (to: bigint) => to,
    } as unknown as SlotReader,
    resolver: {
      schema: { indices: [] },
      tables: () => [],
      partitionedTables: () => [],
      resolve: async () => ({ changes: 0, skipped: 0, filtered: 0, queries: 0 }),
      truncate: () => [],
    } as unknown as ChangeResolver,
    publisher: { publish: async () => undefined },
    state: {
      acquire: async () => ({ token: 1 }),
      renew: async () => true,
      release: async () => undefined,
      checkpoint: async () => undefined,
      heartbeat: async () => undefined,
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  };
  return { deps, sleeps };
}

const options = {
  slot: "s",
  holder: "h",
  pollIntervalMs: 1000,
  safetyMarginMs: 0,
  leaseTtlMs: 60_000,
  fetchSize: 100,
  maxChangesPerCycle: 5,
  resolveEvery: 100,
  publishEvery: 100,
  visibilityTimeoutMs: 10,
};

describe("the poller loop's pace", () => {
  it("starts cycles that found changes one poll interval apart, not back to back", async () => {
    const { deps, sleeps } = busySlot(3);
    const summary = await runPollerLoop(deps, options, 10_000);
    // Ten seconds of a slot that always has new changes: one cycle per second.
    expect(summary.cycles).toBe(10);
    expect(summary.changes).toBe(30);
    expect(sleeps).toEqual(Array(10).fill(1000));
  });

  it("goes straight on after a cycle that stopped at maxChangesPerCycle (a backlog waits)", async () => {
    const { deps, sleeps } = busySlot(5);
    let cycles = 0;
    const limited = { ...deps, now: () => (cycles++ < 40 ? 0 : 10_000) };
    const summary = await runPollerLoop(limited, options, 10_000);
    expect(summary.cycles).toBeGreaterThan(1);
    expect(sleeps).toEqual([]);
  });
});
