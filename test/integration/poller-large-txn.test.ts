import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import {
  DEFAULT_LOOP_OPTIONS,
  type Handoff,
  type LargeTransactionReport,
  type PollerLoopDeps,
  runPollerLoop,
} from "../../lib/poller";
import { decodeMessage, type KeysMessage, SqsKeyPublisher } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import { CheckpointPollerState, QueueHandoffPublisher } from "../../lib/runtime";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { PgSlotReader } from "../../lib/slot";
import { createTestDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

/**
 * A transaction larger than one poller run: each run is given a deliberately short stop (a clock
 * that advances one tick per reading of it, so a run reads a few thousand changes), small fetches
 * and small hand-offs. The runs must hand the transaction on piece by piece, each going on where
 * the last stopped, the slot advancing only once it was handed on whole, and no key lost.
 */
const ROWS = 12_000;
const slot = `slotsync_bigtx_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let conn: pg.Client;
let queues: TestQueues;
let store: UpstashCheckpointStore;
let state: CheckpointPollerState;
let deps: PollerLoopDeps;

const options = {
  ...DEFAULT_LOOP_OPTIONS,
  slot,
  holder: "test",
  pollIntervalMs: 1,
  safetyMarginMs: 0,
  leaseTtlMs: 30_000,
  fetchSize: 300,
  resolveEvery: 500,
  publishEvery: 1000,
  largeTransactionChanges: 1000,
};

/**
 * One run of one cycle, stopped after about `ticks` readings of the clock (one per change read,
 * a few more per cycle); the run ends after its first cycle.
 */
async function run(ticks: number, overrides: Partial<PollerLoopDeps> = {}) {
  let t = 0;
  const reports: LargeTransactionReport[] = [];
  const oneCycle = new AbortController();
  const runState = Object.create(state) as CheckpointPollerState;
  runState.heartbeat = async (...args) => {
    await state.heartbeat(...args);
    oneCycle.abort();
  };
  const summary = await runPollerLoop(
    {
      ...deps,
      state: runState,
      now: () => t++,
      sleep: async () => undefined,
      onLargeTransaction: (r) => reports.push(r),
      ...overrides,
    },
    { ...options, stopCyclesAt: ticks },
    Number.MAX_SAFE_INTEGER,
    oneCycle.signal,
  );
  return { summary, reports };
}

async function receivedKeys(): Promise<string[]> {
  const bodies = await queues.drain({ timeoutMs: 2000 });
  return bodies
    .map((b) => decodeMessage(b))
    .filter((m): m is KeysMessage => m.kind === "keys")
    .flatMap((m) => m.keys.map((k) => k.join("|")));
}

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

beforeAll(async () => {
  db = await createTestDatabase("bigtx");
  await db.client.query("CREATE TABLE item (id bigint PRIMARY KEY, label text)");
  await db.client.query(`INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g`);
  const schema = await resolveSchema(
    parseSchema([{ database: "x", index: "items", nodes: { table: "item", columns: ["id", "label"] } }]),
    db.client,
    { checkDatabaseName: false },
  );
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  queues = await createTestQueues("bigtx");
  const upstash = getServices().upstash;
  store = new UpstashCheckpointStore({ url: upstash.url, token: upstash.token });
  state = new CheckpointPollerState(store);
  deps = {
    db: conn,
    reader: new PgSlotReader(conn, slot),
    resolver: new ChangeResolver(schema),
    publisher: new QueueHandoffPublisher(
      new SqsKeyPublisher({ client: queues.client, queueUrl: queues.queueUrl }),
    ),
    state,
  };
});

beforeEach(async () => {
  await queues.drain({ timeoutMs: 500 });
});

afterAll(async () => {
  await store?.reset(slot).catch(() => undefined);
  await conn?.end();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
});

describe("a transaction larger than one poller run", () => {
  it("is handed on across runs, each going on where the last stopped, and the slot advances after it", async () => {
    // A small transaction first: the first run advances past it and keeps its place in the big one.
    await db.client.query("UPDATE item SET label = label || '.' WHERE id = 1");
    await db.client.query("UPDATE item SET label = label || '!'");
    const start = (await deps.reader.info()).confirmedFlushLsn;

    const sent: string[] = [];
    const handedOn: number[] = [];
    let slotAfterFirst: bigint | null = null;
    let last: Awaited<ReturnType<typeof run>> | undefined;
    for (let runs = 1; runs <= 40; runs++) {
      last = await run(3000);
      sent.push(...(await receivedKeys()));
      const report = last.summary.largeTransaction;
      if (report?.state !== "paused") break;
      // Paused: the run ended inside the transaction, its place is in the store, the slot waits.
      const saved = await state.readProgress(slot);
      expect(saved?.handedOnThrough).toBe(report.handedOnThrough);
      expect(saved?.changes).toBe(report.changes);
      handedOn.push(report.changes);
      const at = (await deps.reader.info()).confirmedFlushLsn;
      if (runs === 1) {
        slotAfterFirst = at;
        expect(at).not.toBe(start);
      } else {
        expect(at).toBe(slotAfterFirst);
        expect(report.resumed).toBe(true);
      }
      expect(last.reports.some((r) => r.state === "in-progress")).toBe(true);
    }
    // Several runs, each further than the one before.
    expect(handedOn.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < handedOn.length; i++) expect(handedOn[i]).toBeGreaterThan(handedOn[i - 1] ?? 0);
    expect(last?.summary.largeTransaction?.state).toBe("done");
    expect(last?.summary.largeTransaction?.changes).toBe(ROWS);
    // Every key arrived, and each only once: no run started the transaction over.
    expect(sent.length).toBe(ROWS + 1);
    expect(new Set(sent)).toEqual(new Set(ids(1, ROWS)));
    expect(await state.readProgress(slot)).toBeNull();
    expect((await deps.reader.info()).confirmedFlushLsn).toBeGreaterThan(slotAfterFirst ?? 0n);
    // Nothing is left in the slot.
    expect((await run(1_000_000)).summary.changes).toBe(0);
  });

  it("a run killed inside the transaction loses nothing: the next goes on from the last hand-off", async () => {
    await db.client.query("UPDATE item SET label = label || '?' WHERE id <= 5000");
    let publishes = 0;
    const dying = {
      publish: async (handoffs: Handoff[]) => {
        if (++publishes === 3) throw new Error("killed inside the transaction");
        await deps.publisher.publish(handoffs);
      },
    };
    const before = (await deps.reader.info()).confirmedFlushLsn;
    await expect(run(1_000_000, { publisher: dying })).rejects.toThrow(/killed inside/);
    const first = await receivedKeys();
    expect(first.length).toBe(2000);
    expect((await deps.reader.info()).confirmedFlushLsn).toBe(before);
    const saved = await state.readProgress(slot);
    expect(saved?.changes).toBe(2000);

    const { summary } = await run(1_000_000);
    const rest = await receivedKeys();
    expect(summary.changes).toBe(3000);
    expect(rest.length).toBe(3000);
    expect(new Set([...first, ...rest])).toEqual(new Set(ids(1, 5000)));
    expect((await deps.reader.info()).confirmedFlushLsn).not.toBe(before);
    expect(await state.readProgress(slot)).toBeNull();
  });

  it("ignores a saved place once the slot has moved past it", async () => {
    await db.client.query("UPDATE item SET label = label || '~' WHERE id <= 10");
    const at = (await deps.reader.info()).confirmedFlushLsn ?? 0n;
    // A record from before: its slot position is not the slot's.
    await state.writeProgress(slot, 0, {
      xid: 1,
      endLsn: 1n,
      slotAt: at - 1n,
      handedOnThrough: 1n,
      changes: 1,
      startedAt: new Date().toISOString(),
    });
    const { summary } = await run(1_000_000);
    expect(summary.keys).toBe(10);
    expect(new Set(await receivedKeys())).toEqual(new Set(ids(1, 10)));
    expect(await state.readProgress(slot)).toBeNull();
  });
});
