import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Checkpoint,
  CheckpointError,
  type CheckpointStore,
  FileCheckpointStore,
  type Lease,
  type LeaseGrant,
  LeaseLostError,
  UpstashCheckpointStore,
} from "../../lib/checkpoint";
import { getServices } from "../support/services";

// The same contract against both stores: Upstash through the real @upstash/redis client (default
// settings) and the REST adapter over a real Redis, and the file store in a temporary directory.
// `keysOf` lists what each store really holds for a slot (Redis directly, or the directory).

type Store = CheckpointStore & Lease;
interface Backend {
  name: string;
  store: () => Store;
  keysOf: (slot: string) => Promise<string[]>;
}

let direct: IORedis;
let dir: string;

beforeAll(async () => {
  const { host, port } = getServices().redis;
  direct = new IORedis({ host, port, lazyConnect: true });
  await direct.connect();
  dir = await mkdtemp(join(tmpdir(), "slotsync-checkpoint-"));
});

afterAll(async () => {
  await direct?.quit();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

const backends: Backend[] = [
  {
    name: "upstash",
    store: () => new UpstashCheckpointStore(getServices().upstash),
    keysOf: async (slot) => (await direct.keys(`slotsync:${slot}:*`)).sort(),
  },
  {
    name: "file",
    store: () => new FileCheckpointStore({ dir }),
    keysOf: async (slot) => {
      const inside = await listFiles(join(dir, slot));
      const beside = (await readdir(dir)).filter((n) => n === `${slot}.fence` || n === `${slot}.lock`);
      return [...inside, ...beside].sort();
    },
  },
];

const newSlot = () => `t_${randomBytes(6).toString("hex")}`;
const LSN_MAX = "18446744073709551615";

/** Polls `fn` until it returns a value other than null/false, or fails at the deadline. */
async function until<T>(what: string, fn: () => Promise<T | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function checkpoint(lsn: string, extra: Partial<Checkpoint> = {}): Checkpoint {
  return {
    lsn,
    committedAt: "2026-11-21T10:00:00.000Z",
    updatedAt: "2026-11-21T10:00:01.000Z",
    counts: { transactions: 3, changes: 120, keys: 40 },
    ...extra,
  };
}

describe.each(backends)("$name checkpoint store", ({ store: make, keysOf }) => {
  let store: Store;
  beforeAll(() => {
    store = make();
  });

  it("lets exactly one of many racing holders take the lease", async () => {
    const slot = newSlot();
    const grants = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.acquire(slot, `holder-${i}`, 30_000)),
    );
    const winners = grants.filter((g): g is LeaseGrant => g !== null);
    expect(winners).toHaveLength(1);
    const [winner] = winners;
    expect(await store.holder(slot)).toMatchObject({ holderId: winner?.holderId, token: winner?.token });
    expect(await store.acquire(slot, "late", 30_000)).toBeNull();
  });

  it("hands an expired lease to another holder with a higher token and fences the old one out", async () => {
    const slot = newSlot();
    // Short enough to wait for, long enough that the first write below lands before it expires.
    const old = await store.acquire(slot, "old", 1_000);
    if (!old) throw new Error("first acquire failed");
    await store.writeCheckpoint(old, checkpoint("100"));
    expect(await store.acquire(slot, "new", 30_000)).toBeNull();

    const next = await until("the lease to expire", () => store.acquire(slot, "new", 30_000));
    expect(next.token).toBeGreaterThan(old.token);
    expect(await store.renew(old)).toBe(false);
    expect(await store.release(old)).toBe(false);

    const refused = await store.writeCheckpoint(old, checkpoint("200")).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect(refused).toMatchObject({ slot, token: old.token, currentToken: next.token, retryable: false });
    await expect(store.writeStats(old, { lastPollAt: "2026-11-21T10:00:00.000Z" })).rejects.toThrow(
      LeaseLostError,
    );
    expect((await store.readCheckpoint(slot))?.lsn).toBe("100");
    expect(await store.readStats(slot)).toBeNull();

    await store.writeCheckpoint(next, checkpoint("300"));
    expect((await store.readCheckpoint(slot))?.lsn).toBe("300");
  });

  it("renews only its own lease, and a release frees the slot at once", async () => {
    const slot = newSlot();
    const a = await store.acquire(slot, "a", 10_000);
    if (!a) throw new Error("acquire failed");
    expect(await store.renew(a, 60_000)).toBe(true);
    expect((await store.holder(slot))?.expiresInMs).toBeGreaterThan(30_000);
    expect(await store.renew({ ...a, token: a.token + 1 })).toBe(false);
    // The slot and token alone name the lease, as a caller that kept only the token has them.
    expect(await store.renew({ slot, token: a.token }, 60_000)).toBe(true);
    await store.writeCheckpoint({ slot, token: a.token }, checkpoint("7"));
    await expect(store.renew({ slot, token: a.token })).rejects.toMatchObject({ where: "ttlMs" });
    expect(await store.release({ ...a, token: a.token + 1 })).toBe(false);
    expect(await store.release(a)).toBe(true);
    expect(await store.holder(slot)).toBeNull();
    await expect(store.writeCheckpoint(a, checkpoint("1"))).rejects.toMatchObject({ currentToken: null });
    const b = await store.acquire(slot, "b", 10_000);
    expect(b?.token).toBe(a.token + 1);
  });

  it("round-trips a checkpoint with an LSN beyond 2^53 exactly, replacing the previous one", async () => {
    const slot = newSlot();
    expect(await store.readCheckpoint(slot)).toBeNull();
    const lease = await store.acquire(slot, "poller", 30_000);
    if (!lease) throw new Error("acquire failed");
    await store.writeCheckpoint(lease, checkpoint("9007199254740993"));
    const last = checkpoint(LSN_MAX, { committedAt: null, counts: { transactions: 0, changes: 0, keys: 0 } });
    await store.writeCheckpoint(lease, last);
    expect(await store.readCheckpoint(slot)).toEqual(last);
    await expect(store.writeCheckpoint(lease, checkpoint("18446744073709551616"))).rejects.toThrow(
      CheckpointError,
    );
    await expect(store.writeCheckpoint(lease, checkpoint("1.5"))).rejects.toMatchObject({
      where: "checkpoint.lsn",
    });
  });

  it("merges stats fields and clears one with null", async () => {
    const slot = newSlot();
    const lease = await store.acquire(slot, "poller", 30_000);
    if (!lease) throw new Error("acquire failed");
    await store.writeStats(lease, { lastPollAt: "2026-11-21T10:00:00.000Z", lagBytes: 123_456_789_012 });
    await store.writeStats(lease, {
      lastSuccessAt: "2026-11-21T10:00:02.000Z",
      changesPerSecond: 12.5,
      lagBytes: null,
    });
    expect(await store.readStats(slot)).toEqual({
      lastPollAt: "2026-11-21T10:00:00.000Z",
      lastSuccessAt: "2026-11-21T10:00:02.000Z",
      lagBytes: null,
      changesPerSecond: 12.5,
      keysPerSecond: null,
    });
  });

  it("keeps every range when many consumers report at once, and completes once all are done", async () => {
    const slot = newSlot();
    const rangeIds = Array.from({ length: 120 }, (_, i) => `r${String(i).padStart(4, "0")}`);
    await store.beginBootstrap(slot, {
      bootstrapId: "b1",
      index: "book",
      lsn: LSN_MAX,
      rangeIds,
      startedAt: "2026-11-21T09:00:00.000Z",
    });
    await store.beginBootstrap(slot, {
      bootstrapId: "b2",
      index: "book",
      lsn: "5",
      rangeIds: ["x"],
      startedAt: "2026-11-21T09:30:00.000Z",
    });
    expect(await store.listBootstraps(slot)).toEqual(["b2", "b1"]);

    await Promise.all(rangeIds.map((id) => store.markRange(slot, "b1", id, { status: "running" })));
    const half = await store.readBootstrap(slot, "b1");
    expect(half).toMatchObject({
      total: 120,
      running: 120,
      done: 0,
      pending: 0,
      completedAt: null,
      lsn: LSN_MAX,
    });

    const results = await Promise.all(
      rangeIds.map((id, i) => store.markRange(slot, "b1", id, { status: "done", documents: i + 1 })),
    );
    expect(results.filter((r) => r.completed && r.done === 120)).not.toHaveLength(0);
    const progress = await store.readBootstrap(slot, "b1");
    expect(progress).toMatchObject({
      bootstrapId: "b1",
      index: "book",
      total: 120,
      done: 120,
      running: 0,
      failed: 0,
      pending: 0,
    });
    expect(progress?.documents).toBe((120 * 121) / 2);
    expect(Object.keys(progress?.ranges ?? {}).sort()).toEqual(rangeIds);
    expect(progress?.completedAt).toMatch(/^\d{4}-/);
    expect(progress?.startedAt).toBe("2026-11-21T09:00:00.000Z");

    // A redelivered range message must not undo `done`; an unknown bootstrap changes nothing.
    expect(
      await store.markRange(slot, "b1", "r0000", { status: "failed", error: "late duplicate" }),
    ).toMatchObject({
      applied: false,
      reason: "done-is-final",
      done: 120,
    });
    expect((await store.readBootstrap(slot, "b1"))?.ranges.r0000?.status).toBe("done");
    expect(await store.markRange(slot, "nope", "r1", { status: "done" })).toMatchObject({
      applied: false,
      reason: "unknown-bootstrap",
    });
    expect(await store.readBootstrap(slot, "nope")).toBeNull();

    // Begun again (a restarted bootstrap): known ranges keep their state, the start time stays.
    await store.beginBootstrap(slot, {
      bootstrapId: "b1",
      index: "book",
      lsn: LSN_MAX,
      rangeIds,
      startedAt: "2026-11-21T11:00:00.000Z",
    });
    expect(await store.readBootstrap(slot, "b1")).toMatchObject({
      done: 120,
      startedAt: "2026-11-21T09:00:00.000Z",
    });
  });

  it("stores alert state per name", async () => {
    const slot = newSlot();
    expect(await store.readAlert(slot, "wal")).toBeNull();
    const state = {
      level: "critical" as const,
      since: "2026-11-21T10:00:00.000Z",
      lastNotifiedAt: null,
      message: "WAL at 12 GB",
    };
    await store.writeAlert(slot, "wal", state);
    await store.writeAlert(slot, "poller", {
      level: "ok",
      since: "2026-11-21T10:00:00.000Z",
      lastNotifiedAt: "2026-11-21T10:05:00.000Z",
    });
    expect(await store.readAlert(slot, "wal")).toEqual(state);
    expect((await store.readAlert(slot, "poller"))?.level).toBe("ok");
  });

  it("resets one slot completely, keeping only its fencing counter, and leaves other slots alone", async () => {
    const [slot, other] = [newSlot(), newSlot()];
    for (const s of [slot, other]) {
      const lease = await store.acquire(s, "poller", 30_000);
      if (!lease) throw new Error("acquire failed");
      await store.writeCheckpoint(lease, checkpoint("42"));
      await store.writeStats(lease, { lastPollAt: "2026-11-21T10:00:00.000Z" });
      await store.writeAlert(s, "wal", {
        level: "warning",
        since: "2026-11-21T10:00:00.000Z",
        lastNotifiedAt: null,
      });
      await store.beginBootstrap(s, { bootstrapId: "b1", index: "book", lsn: "1", rangeIds: ["a", "b"] });
      await store.markRange(s, "b1", "a", { status: "done", documents: 5 });
    }
    const otherBefore = await keysOf(other);
    const oldToken = (await store.holder(slot))?.token ?? 0;

    await store.reset(slot);

    expect((await keysOf(slot)).filter((k) => !/fence|\.lock$/.test(k))).toEqual([]);
    expect(await keysOf(other)).toEqual(otherBefore);
    expect(await store.readCheckpoint(slot)).toBeNull();
    expect(await store.readStats(slot)).toBeNull();
    expect(await store.readAlert(slot, "wal")).toBeNull();
    expect(await store.listBootstraps(slot)).toEqual([]);
    expect(await store.holder(slot)).toBeNull();
    expect((await store.readCheckpoint(other))?.lsn).toBe("42");
    expect((await store.readBootstrap(other, "b1"))?.done).toBe(1);
    const again = await store.acquire(slot, "after-reset", 30_000);
    expect(again?.token).toBeGreaterThan(oldToken);
  });

  it("refuses slot names and ids that could escape the namespace", async () => {
    for (const slot of ["", "Upper", "a:b", "a*", "../x", "x".repeat(64)]) {
      await expect(store.readCheckpoint(slot)).rejects.toMatchObject({
        name: "CheckpointError",
        retryable: false,
        where: "slot",
      });
    }
    await expect(store.readBootstrap("ok_slot", "a:b")).rejects.toThrow(/bootstrapId/);
    await expect(store.acquire("ok_slot", "h", 0)).rejects.toThrow(/ttl/);
  });
});

describe("Upstash specifics", () => {
  it("lays out keys under slotsync:<slot>: with an expiring lease", async () => {
    const store = new UpstashCheckpointStore(getServices().upstash);
    const slot = newSlot();
    const lease = await store.acquire(slot, "true", 30_000);
    if (!lease) throw new Error("acquire failed");
    await store.writeCheckpoint(lease, checkpoint("123"));
    await store.beginBootstrap(slot, { bootstrapId: "1e5", index: "null", lsn: "7", rangeIds: ["007"] });
    await store.markRange(slot, "1e5", "007", { status: "done", documents: 1 });
    const p = `slotsync:${slot}:`;
    expect((await direct.keys(`${p}*`)).sort()).toEqual(
      [
        "bootstrap:1e5",
        "bootstrap:1e5:done",
        "bootstrap:1e5:ranges",
        "bootstraps",
        "checkpoint",
        "lease",
        "lease:fence",
      ].map((k) => p + k),
    );
    expect(await direct.pttl(`${p}lease`)).toBeGreaterThan(0);
    expect(await direct.hget(`${p}checkpoint`, "lsn")).toBe("123");
    // Values that the client would otherwise turn into numbers, booleans or null come back as written.
    expect((await store.holder(slot))?.holderId).toBe("true");
    expect(await store.listBootstraps(slot)).toEqual(["1e5"]);
    expect(await store.readBootstrap(slot, "1e5")).toMatchObject({ index: "null", lsn: "7", done: 1 });
    expect(Object.keys((await store.readBootstrap(slot, "1e5"))?.ranges ?? {})).toEqual(["007"]);
    await store.reset(slot);
  });

  it("reports an unreachable Upstash as a retryable CheckpointError naming the host, never the token", async () => {
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    await new Promise<void>((r) => server.close(() => r()));
    const token = `secret-${randomBytes(12).toString("hex")}`;
    const store = new UpstashCheckpointStore({ url: `http://127.0.0.1:${port}`, token });
    const error = await store.readCheckpoint("some_slot").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    const e = error as CheckpointError;
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(e.message).toMatch(/unreachable/);
    expect(`${e.message} ${e.toLine()} ${String(e.cause)}`).not.toContain(token);
  });

  it("reports a wrong token as not retryable", async () => {
    const { url } = getServices().upstash;
    const store = new UpstashCheckpointStore({ url, token: "wrong-token" });
    const error = await store.readCheckpoint("some_slot").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "CheckpointError", retryable: false });
    expect((error as Error).message).toMatch(/refused the token/);
    expect((error as Error).message).not.toContain("wrong-token");
  });
});
