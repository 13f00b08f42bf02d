import { describe, expect, it } from "vitest";
import { type CycleReport, LeaseKeeper } from "../../../../lib/cli/sync/lease-keeper";
import { isRetryable } from "../../../../lib/errors";
import type { PollerStateStore } from "../../../../lib/poller";

function store(renewResult = true) {
  const calls: string[] = [];
  const inner: PollerStateStore = {
    acquire: async (_slot, _holder, _ttl) => {
      calls.push("acquire");
      return { token: 7 };
    },
    renew: async (slot, token, ttl) => {
      calls.push(`renew ${slot} ${token} ${ttl}`);
      return renewResult;
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
  };
  return { inner, calls };
}

const heartbeat = { at: new Date(0), lagBytes: 0n, transactions: 1, changes: 2, keys: 3, durationMs: 4 };

describe("LeaseKeeper", () => {
  it("keeps the held lease alive on demand with its token and ttl", async () => {
    const { inner, calls } = store();
    const keeper = new LeaseKeeper(inner);
    await keeper.keepAlive();
    expect(calls).toEqual([]);
    await keeper.acquire("s", "me", 60_000);
    await keeper.keepAlive();
    expect(calls).toEqual(["acquire", "renew s 7 60000"]);
    await keeper.release("s", 7);
    await keeper.keepAlive();
    expect(calls).toEqual(["acquire", "renew s 7 60000", "release"]);
  });

  it("a lost lease fails the waiting cycle with a retryable error", async () => {
    const { inner } = store(false);
    const keeper = new LeaseKeeper(inner);
    await keeper.acquire("s", "me", 1000);
    const error = await keeper.keepAlive().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isRetryable(error)).toBe(true);
    expect((error as Error).message).toMatch(/lost the lease of slot "s"/);
  });

  it("reports each cycle after its heartbeat, with the checkpoint when the slot advanced", async () => {
    const reports: CycleReport[] = [];
    const keeper = new LeaseKeeper(store().inner, (r) => reports.push(r));
    await keeper.checkpoint("s", 7, { lsn: 9n, transactions: 1, changes: 2, keys: 3 });
    await keeper.heartbeat("s", 7, heartbeat);
    await keeper.heartbeat("s", 7, heartbeat);
    expect(reports).toEqual([
      { heartbeat, checkpoint: { lsn: 9n, transactions: 1, changes: 2, keys: 3 } },
      { heartbeat, checkpoint: undefined },
    ]);
  });
});
