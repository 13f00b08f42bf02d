import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import {
  DEFAULT_LOOP_OPTIONS,
  type Handoff,
  type HandoffPublisher,
  type PollerLoopDeps,
  type PollerStateStore,
  runPollerLoop,
} from "../../lib/poller";
import { SqsKeyPublisher } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import { CheckpointPollerState, QueueHandoffPublisher } from "../../lib/runtime";
import type { ResolvedSchema } from "../../lib/schema";
import { PgSlotReader } from "../../lib/slot";
import {
  applySchemaFixture,
  createTestDatabase,
  resolveSchemaFixture,
  type TestDatabase,
} from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

// The hand-over between two scheduled latency-mode runs, as the stack overlaps them: the next run
// starts while the previous one still polls, waits for the lease, and takes over when the previous
// run reaches its end and releases it, while changes keep being committed the whole time.
const slot = `slotsync_handover_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let queues: TestQueues;
let store: UpstashCheckpointStore;
let schema: ResolvedSchema;
const connections: pg.Client[] = [];

const options = {
  ...DEFAULT_LOOP_OPTIONS,
  slot,
  pollIntervalMs: 50,
  safetyMarginMs: 0,
  leaseTtlMs: 10_000,
};

/** Every key a run handed on, in order, once SQS accepted it. */
function recordingPublisher(into: string[]): HandoffPublisher {
  const queue = new QueueHandoffPublisher(
    new SqsKeyPublisher({ client: queues.client, queueUrl: queues.queueUrl }),
  );
  return {
    async publish(handoffs: Handoff[]) {
      await queue.publish(handoffs);
      for (const h of handoffs) if (h.kind === "keys") for (const k of h.keys) into.push(k.join("|"));
    },
  };
}

/** A run with its own connection (as each Lambda invocation has). */
async function runDeps(publisher: HandoffPublisher, state: PollerStateStore): Promise<PollerLoopDeps> {
  const conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  connections.push(conn);
  return {
    db: conn,
    reader: new PgSlotReader(conn, slot),
    resolver: new ChangeResolver(schema),
    publisher,
    state,
  };
}

/** The first error of the writer, which ends every wait. */
let failure: unknown;

/** Resolves once `check` holds, polling every 20 ms; throws once the writer failed. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) {
    if (failure) throw failure;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  db = await createTestDatabase("handover");
  await applySchemaFixture(db.client, "bookstore");
  schema = await resolveSchemaFixture(db, "bookstore");
  for (const need of schema.replicaIdentityNeeds) await db.client.query(need.sql);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  queues = await createTestQueues("handover");
  const upstash = getServices().upstash;
  store = new UpstashCheckpointStore({ url: upstash.url, token: upstash.token });
});

afterAll(async () => {
  await store?.reset(slot).catch(() => undefined);
  for (const c of connections) await c.end().catch(() => undefined);
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
});

describe("poller hand-over between overlapping scheduled runs", () => {
  it("the waiting run takes over when the previous one ends; no change is lost or handed on twice", async () => {
    const state = new CheckpointPollerState(store);
    const sentByFirst: string[] = [];
    const sentBySecond: string[] = [];
    const sentByDrain: string[] = [];
    const committed: string[] = [];

    // One book inserted per transaction, all the time, each a key of its own.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const id = 100_000 + i;
        await db.client.query("INSERT INTO book (id, isbn, title, publisher_id) VALUES ($1, $2, $3, 1)", [
          id,
          `handover-${i}`,
          `Book ${i}`,
        ]);
        committed.push(String(id));
        await new Promise((r) => setTimeout(r, 10));
      }
    })().catch((error: unknown) => {
      failure = error;
    });

    // The first run's clock jumps to its deadline when the test says its time is up.
    let firstTimeUp = false;
    const first = runPollerLoop(
      {
        ...(await runDeps(recordingPublisher(sentByFirst), state)),
        now: () => Date.now() + (firstTimeUp ? 3_600_000 : 0),
      },
      { ...options, holder: "first" },
      Date.now() + 600_000,
    );
    await until(() => sentByFirst.length > 0);

    // The next tick's run starts while the first still holds the lease, and waits for it.
    let refusals = 0;
    const waitingState: PollerStateStore = Object.assign(Object.create(state) as PollerStateStore, {
      acquire: async (...args: Parameters<PollerStateStore["acquire"]>) => {
        const lease = await state.acquire(...args);
        if (!lease) refusals++;
        return lease;
      },
    });
    const stopSecond = new AbortController();
    const second = runPollerLoop(
      await runDeps(recordingPublisher(sentBySecond), waitingState),
      { ...options, holder: "second", leaseWaitMs: 60_000 },
      Date.now() + 600_000,
      stopSecond.signal,
    );
    let secondEnded = false;
    void second.finally(() => {
      secondEnded = true;
    });
    await until(() => refusals > 0 || secondEnded);
    firstTimeUp = true;
    const firstSummary = await first;

    // The second run goes on with the changes that keep coming.
    const atHandOver = committed.length;
    await until(() => (committed.length > atHandOver + 20 && sentBySecond.length > 0) || secondEnded);
    writing = false;
    await writer;
    expect(failure).toBeUndefined();
    stopSecond.abort();
    const secondSummary = await second;

    // What is still in the slot after the second run: one more run until a cycle finds nothing.
    const drainSummary = await runPollerLoop(
      await runDeps(recordingPublisher(sentByDrain), state),
      { ...options, holder: "drain", idleGraceMs: 0 },
      Date.now() + 600_000,
    );

    expect(firstSummary.outcome).toBe("completed");
    expect(secondSummary.outcome).toBe("stopped");
    expect(drainSummary.outcome).toBe("idle");
    expect(refusals).toBeGreaterThan(0);
    expect(secondSummary.cycles).toBeGreaterThan(0);
    expect(sentBySecond.length).toBeGreaterThan(0);
    const sent = [...sentByFirst, ...sentBySecond, ...sentByDrain];
    // Every committed book was handed on exactly once, whichever run did it.
    expect([...sent].sort()).toEqual([...committed].sort());
    // The second run handed on only what the first had not: it went on where the first stopped.
    const byFirst = new Set(sentByFirst);
    expect(sentBySecond.filter((k) => byFirst.has(k))).toEqual([]);
  });
});
