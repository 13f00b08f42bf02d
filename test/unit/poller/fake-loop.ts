import type { PollerLoopDeps } from "../../../lib/poller";
import type { ChangeResolver } from "../../../lib/resolve";
import type { SlotReader, WalEvent } from "../../../lib/slot";

/** What a fake loop's state store was asked, in order. */
export type StateCall = "acquire" | "renew" | "release" | "checkpoint" | "heartbeat";

/**
 * A slot whose n-th peek (from 0) holds `changesAt(n)` new row changes in one transaction (of a
 * table no index watches, so nothing is sent; 0: nothing at all), a state store that records its
 * calls (`leaseFreeAt`: the clock time from which the lease can be taken), and a clock that moves
 * only when the loop sleeps.
 */
export function scriptedSlot(changesAt: (peek: number) => number, leaseFreeAt = 0) {
  let clock = 0;
  let peeks = 0;
  const sleeps: number[] = [];
  const calls: StateCall[] = [];
  let lsn = 100n;
  const deps: PollerLoopDeps = {
    db: { query: async () => ({ rows: [{ lag: "0" }] }) } as never,
    reader: {
      async *peek(): AsyncGenerator<WalEvent> {
        const changes = changesAt(peeks++);
        if (changes === 0) return;
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
      acquire: async () => {
        calls.push("acquire");
        return clock >= leaseFreeAt ? { token: 1 } : null;
      },
      renew: async () => {
        calls.push("renew");
        return true;
      },
      release: async () => {
        calls.push("release");
      },
      checkpoint: async () => {
        calls.push("checkpoint");
      },
      heartbeat: async () => {
        calls.push("heartbeat");
      },
    },
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  };
  return { deps, sleeps, calls, peeks: () => peeks, clock: () => clock };
}

/** A slot that always holds `changes` new row changes. */
export function busySlot(changes: number) {
  return scriptedSlot(() => changes);
}

/** The loop options of these tests: one-second polls, no safety margin, a one-minute lease. */
export const LOOP_OPTIONS = {
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
