import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { DEFAULT_LOOP_OPTIONS, type PollerLoopDeps, runPollerLoop } from "../../lib/poller";
import { decodeMessage, type KeysMessage, SqsKeyPublisher } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import { CheckpointPollerState, QueueHandoffPublisher } from "../../lib/runtime";
import { PgSlotReader } from "../../lib/slot";
import {
  applySchemaFixture,
  createTestDatabase,
  resolveSchemaFixture,
  type TestDatabase,
} from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

const slot = `slotsync_loop_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let conn: pg.Client;
let queues: TestQueues;
let store: UpstashCheckpointStore;
let deps: PollerLoopDeps;

const options = {
  ...DEFAULT_LOOP_OPTIONS,
  slot,
  holder: "test",
  pollIntervalMs: 20,
  safetyMarginMs: 0,
  leaseTtlMs: 10_000,
};

/** Runs the loop for one cycle (the deadline leaves room for exactly one). */
function pollOnce(overrides: Partial<PollerLoopDeps> = {}) {
  let calls = 0;
  const now = () => (calls++ === 0 ? 0 : 1_000_000);
  return runPollerLoop({ ...deps, now, ...overrides }, options, 1000);
}

async function receivedKeys(count: number): Promise<string[]> {
  const bodies = await queues.drain({ count, timeoutMs: 5000 });
  return bodies
    .map((b) => decodeMessage(b))
    .filter((m): m is KeysMessage => m.kind === "keys")
    .flatMap((m) => m.keys.map((k) => k.join("|")))
    .sort();
}

beforeAll(async () => {
  db = await createTestDatabase("loop");
  await applySchemaFixture(db.client, "bookstore");
  const schema = await resolveSchemaFixture(db, "bookstore");
  for (const need of schema.replicaIdentityNeeds) await db.client.query(need.sql);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  queues = await createTestQueues("loop");
  const upstash = getServices().upstash;
  store = new UpstashCheckpointStore({ url: upstash.url, token: upstash.token });
  deps = {
    db: conn,
    reader: new PgSlotReader(conn, slot),
    resolver: new ChangeResolver(schema),
    publisher: new QueueHandoffPublisher(
      new SqsKeyPublisher({ client: queues.client, queueUrl: queues.queueUrl }),
    ),
    state: new CheckpointPollerState(store),
  };
});

afterAll(async () => {
  await store?.reset(slot).catch(() => undefined);
  await conn?.end();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
});

describe("poller loop with SQS and Upstash", () => {
  it("sends versioned key messages, advances the slot and writes the checkpoint", async () => {
    await db.client.query("UPDATE book SET title = title || '!' WHERE id IN (1, 2)");
    const summary = await pollOnce();
    expect(summary.outcome).toBe("completed");
    expect(await receivedKeys(1)).toEqual(["1", "2"]);
    const info = await deps.reader.info();
    expect(summary.advancedTo).toBe(info.confirmedFlushLsn);
    const checkpoint = await store.readCheckpoint(slot);
    expect(checkpoint?.lsn).toBe(info.confirmedFlushLsn?.toString());
    expect((await store.readStats(slot))?.lastSuccessAt).toBeTruthy();
  });

  it("a second poller finds the lease held and does nothing", async () => {
    const grant = await store.acquire(slot, "someone-else", 10_000);
    expect(grant).not.toBeNull();
    try {
      await db.client.query("UPDATE book SET title = title || '?' WHERE id = 3");
      expect((await pollOnce()).outcome).toBe("lease-held");
      expect(await queues.drain({ timeoutMs: 1500 })).toEqual([]);
    } finally {
      if (grant) await store.release(grant);
    }
    expect(await pollOnce().then(() => receivedKeys(1))).toEqual(["3"]);
  });

  it("a crash after SQS accepted but before the advance replays the same keys: never a gap", async () => {
    await db.client.query("UPDATE book SET title = title || '#' WHERE id = 4");
    const crashing = {
      publish: async (h: Parameters<QueueHandoffPublisher["publish"]>[0]) => {
        await deps.publisher.publish(h);
        throw new Error("killed after send");
      },
    };
    const before = (await deps.reader.info()).confirmedFlushLsn;
    await expect(pollOnce({ publisher: crashing })).rejects.toThrow(/killed after send/);
    expect((await deps.reader.info()).confirmedFlushLsn).toBe(before);
    expect(await receivedKeys(1)).toEqual(["4"]);
    await pollOnce();
    expect(await receivedKeys(1)).toEqual(["4"]);
  });

  it("a crash between the advance and the checkpoint loses nothing; the checkpoint catches up", async () => {
    await db.client.query("UPDATE book SET title = title || '%' WHERE id = 1");
    const failingState = new CheckpointPollerState(store);
    failingState.checkpoint = async () => {
      throw new Error("killed after advance");
    };
    await expect(pollOnce({ state: failingState })).rejects.toThrow(/killed after advance/);
    expect(await receivedKeys(1)).toEqual(["1"]);
    const advanced = (await deps.reader.info()).confirmedFlushLsn;
    expect((await store.readCheckpoint(slot))?.lsn).not.toBe(advanced?.toString());
    // The transaction was handed on before the advance, so it is not sent again; the next one is.
    await db.client.query("UPDATE book SET title = title || '&' WHERE id = 2");
    await pollOnce();
    expect(await receivedKeys(1)).toEqual(["2"]);
    expect((await store.readCheckpoint(slot))?.lsn).toBe(
      (await deps.reader.info()).confirmedFlushLsn?.toString(),
    );
  });

  it("a poller whose lease was taken over while it sent does not advance the slot; its successor replays", async () => {
    await db.client.query("UPDATE book SET title = title || '~' WHERE id = 3");
    const before = (await deps.reader.info()).confirmedFlushLsn;
    let successor: Awaited<ReturnType<typeof store.acquire>> = null;
    // The first poller freezes after sending (as a paused process: its lease renewals wait too)
    // past its lease's time to live; another one takes the lease meanwhile.
    let frozen = false;
    const real = deps.state;
    const state: PollerLoopDeps["state"] = {
      acquire: (...a) => real.acquire(...a),
      release: (...a) => real.release(...a),
      checkpoint: (...a) => real.checkpoint(...a),
      heartbeat: (...a) => real.heartbeat(...a),
      renew: async (...a) => {
        while (frozen) await new Promise((r) => setTimeout(r, 20));
        return real.renew(...a);
      },
    };
    const stalling = {
      publish: async (h: Parameters<QueueHandoffPublisher["publish"]>[0]) => {
        await deps.publisher.publish(h);
        frozen = true;
        const deadline = Date.now() + 10_000;
        while (!successor && Date.now() < deadline) {
          successor = await store.acquire(slot, "successor", 10_000);
          if (!successor) await new Promise((r) => setTimeout(r, 50));
        }
        frozen = false;
      },
    };
    let calls = 0;
    const now = () => (calls++ === 0 ? 0 : 1_000_000);
    const summary = await runPollerLoop(
      { ...deps, state, publisher: stalling, now },
      { ...options, leaseTtlMs: 300 },
      1000,
    );
    expect(successor).not.toBeNull();
    expect(summary.outcome).toBe("lease-lost");
    expect(summary.advancedTo).toBeUndefined();
    expect((await deps.reader.info()).confirmedFlushLsn).toBe(before);
    expect(await receivedKeys(1)).toEqual(["3"]);
    // The successor finds the same transaction in the slot: nothing was skipped.
    if (successor) await store.release(successor);
    await pollOnce();
    expect(await receivedKeys(1)).toEqual(["3"]);
  });

  it("a cycle longer than the lease's time to live keeps its lease and advances", async () => {
    await db.client.query("UPDATE book SET title = title || '+' WHERE id = 2");
    // Sending takes three times the lease's TTL: the lease is extended while the cycle runs.
    const slow = {
      publish: async (h: Parameters<QueueHandoffPublisher["publish"]>[0]) => {
        await new Promise((r) => setTimeout(r, 900));
        await deps.publisher.publish(h);
      },
    };
    let calls = 0;
    const now = () => (calls++ === 0 ? 0 : 1_000_000);
    const summary = await runPollerLoop(
      { ...deps, publisher: slow, now },
      { ...options, leaseTtlMs: 300 },
      1000,
    );
    expect(summary.outcome).toBe("completed");
    expect(summary.advancedTo).toBe((await deps.reader.info()).confirmedFlushLsn);
    expect(await receivedKeys(1)).toEqual(["2"]);
  });
});
