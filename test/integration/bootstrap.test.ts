import { randomBytes } from "node:crypto";
import { DescribeRuleCommand, EventBridgeClient, PutRuleCommand } from "@aws-sdk/client-eventbridge";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BootstrapDeps,
  BootstrapError,
  type BootstrapEvent,
  type CompletionDeps,
  completeBootstrap,
  EventBridgeSchedule,
  maintainBootstraps,
  onRangeDone,
  type PollerSchedule,
  readIndexRecord,
  resetSlot,
  runBootstrap,
  WriteTargetResolver,
} from "../../lib/bootstrap";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { batchHandler, type ConsumerDeps, runConsumerLoop } from "../../lib/consumer";
import { lender } from "../../lib/database";
import { createDocumentBuilder, type DocumentBuilder } from "../../lib/document";
import { runCycle } from "../../lib/poller";
import { type KeyPublisher, MemoryQueue, type QueueMessage } from "../../lib/queue";
import { ChangeResolver } from "../../lib/resolve";
import { QueueHandoffPublisher } from "../../lib/runtime";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { PgSlotReader } from "../../lib/slot";
import { compareIndexWithDatabase } from "../support/consistency";
import { ENGINES } from "../support/engines";
import { applySchemaFixture, createTestDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

// Bootstrap end to end on the real services: a 20,000-book database copied by range messages
// through the real consumer while a writer keeps changing it, the poller catching up afterwards,
// and the index compared with the database document by document; then a crash in the middle of
// sending and a resume that neither repeats nor loses a range.

const BOOKS = 20_000;
const SUFFIX = randomBytes(4).toString("hex");

/** The bookstore schema under a unique index name, without the analysis the local engines lack. */
async function bookstoreSchema(index: string, mapping: Record<string, unknown> = {}): Promise<unknown[]> {
  const [spec] = (await readSchemaFixture("bookstore")) as Record<string, unknown>[];
  const copy = structuredClone(spec) as {
    index: string;
    setting?: unknown;
    mapping: unknown;
    nodes: { transform: { mapping: Record<string, unknown> } };
  };
  copy.index = index;
  delete copy.setting;
  delete copy.nodes.transform.mapping.book_isbn;
  copy.mapping = { authors: { type: "nested" }, doc_coordinates: { type: "float" }, ...mapping };
  return [copy];
}

/** The fixture scaled up: publishers, authors, books with an author each, reviews. */
async function populate(client: pg.Client, books: number): Promise<void> {
  await client.query(`
    INSERT INTO publisher (id, name, is_active) SELECT g, 'Publisher ' || g, g % 2 = 0 FROM generate_series(4, 50) g;
    INSERT INTO author (id, name, date_of_birth, city_id)
      SELECT g, 'Author ' || g, timestamp '1950-01-01' + g * interval '1 day', 1 + g % 3 FROM generate_series(5, 2000) g;
    INSERT INTO book (id, isbn, title, description, publisher_id, publish_date, price)
      SELECT g, 'isbn-' || g, 'Title ' || g, 'About book ' || g, 1 + g % 50,
             timestamp '2000-01-01' + g * interval '1 hour', (g % 100) + 0.99
        FROM generate_series(5, ${books}) g;
    INSERT INTO book_author (id, book_isbn, author_id) SELECT g + 10, 'isbn-' || g, 1 + g % 2000 FROM generate_series(5, ${books}) g;
    INSERT INTO review (id, book_id, reviewer, stars, created_at)
      SELECT g + 10, 1 + g % ${books}, 'reader ' || g, 1 + g % 5, timestamptz '2024-01-01' + g * interval '1 minute'
        FROM generate_series(1, ${Math.round(books * 1.5)}) g;
    ANALYZE;`);
}

/** Ids of rows the writers insert, unique across writers. */
let next = 5_000_000;

/** Keeps changing books, reviews, authors and publishers until stopped, one small transaction at a time. */
function startWriter(url: string, books: number): { stop(): Promise<number> } {
  const client = new pg.Client({ connectionString: url });
  let running = true;
  let ops = 0;
  const pick = () => 1 + Math.floor(Math.random() * books);
  let failure: unknown;
  const loop = (async () => {
    await client.connect();
    try {
      while (running) {
        const r = Math.random();
        const id = pick();
        next++;
        if (r < 0.3) await client.query("UPDATE book SET title = $2 WHERE id = $1", [id, `Retitled ${next}`]);
        else if (r < 0.45) {
          await client.query(
            `WITH b AS (INSERT INTO book (id, isbn, title, publisher_id) VALUES ($1::int, 'new-' || $1, 'New ' || $1, 1 + $1::int % 50) RETURNING id, isbn),
                  a AS (INSERT INTO book_author (id, book_isbn, author_id) SELECT $1::int, isbn, 1 + $1::int % 2000 FROM b)
             INSERT INTO review (id, book_id, reviewer, stars, created_at) SELECT $1::int, id, 'first', 5, now() FROM b`,
            [next],
          );
        } else if (r < 0.55) await client.query("DELETE FROM book WHERE id = $1", [id]);
        else if (r < 0.7) {
          await client.query(
            "INSERT INTO review (id, book_id, reviewer, stars, created_at) SELECT $1, id, 'late', 2, now() FROM book WHERE id = $2",
            [next, id],
          );
        } else if (r < 0.82) {
          await client.query(
            "UPDATE review SET book_id = $2 WHERE id = (SELECT id FROM review WHERE book_id = $1 LIMIT 1) AND EXISTS (SELECT 1 FROM book WHERE id = $2)",
            [id, pick()],
          );
        } else if (r < 0.9) {
          await client.query(
            "DELETE FROM review WHERE id = (SELECT id FROM review WHERE book_id = $1 LIMIT 1)",
            [id],
          );
        } else if (r < 0.98) {
          await client.query("UPDATE author SET name = name || '+' WHERE id = $1", [1 + (id % 2000)]);
        } else await client.query("UPDATE publisher SET name = name || '.' WHERE id = $1", [1 + (id % 50)]);
        ops++;
        // Pacing so two cores also serve the copy; not synchronisation.
        await new Promise((r) => setTimeout(r, 3));
      }
    } finally {
      await client.end();
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    async stop() {
      running = false;
      await loop;
      if (failure) throw failure;
      return ops;
    },
  };
}

interface Stack {
  db: TestDatabase;
  pool: pg.Pool;
  slot: string;
  index: string;
  sink: SearchSink;
  store: UpstashCheckpointStore;
  queue: MemoryQueue;
  consumer: ConsumerDeps;
  /** The schema and builder bootstrap, consumers and poller run with now. */
  readonly schema: ResolvedSchema;
  readonly builder: DocumentBuilder;
  /** Deploys a changed schema: extra top-level mappings; everything runs with it from now on. */
  redeploy(mapping: Record<string, unknown>): Promise<void>;
  /** Whether the consumers' rangeDone switches the alias after the last range (default true). */
  autoComplete: boolean;
  completion: CompletionDeps;
  bootstrap(publisher?: KeyPublisher, now?: () => number): BootstrapDeps;
  /** One poller cycle, then the consumers drain the queue; returns the transactions handed on. */
  pollOnce(): Promise<number>;
  /** Poller cycles until one finds nothing (writes must have stopped). */
  catchUp(): Promise<number>;
  close(): Promise<void>;
}

async function createStack(
  engine: (typeof ENGINES)[number],
  name: string,
  books: number,
  options: { schedule?: PollerSchedule; replicaIdentity?: boolean } = {},
): Promise<Stack> {
  const db = await createTestDatabase(name);
  await applySchemaFixture(db.client, "bookstore");
  await populate(db.client, books);
  const index = `slotsync-${name}-${SUFFIX}`;
  const resolve = async (mapping: Record<string, unknown> = {}) =>
    resolveSchema(
      parseSchema(await bookstoreSchema(index, mapping), { env: { DATABASE: db.name } }),
      db.client,
      { checkDatabaseName: false },
    );
  let schema = await resolve();
  if (options.replicaIdentity) {
    // As an operator who ran the statements `validate` printed before bootstrapping would.
    for (const need of schema.replicaIdentityNeeds) await db.client.query(need.sql);
    schema = await resolve();
  }
  const builderOf = (s: ResolvedSchema) =>
    createDocumentBuilder(s.indices[0] as ResolvedSchema["indices"][0]);
  let builder = await builderOf(schema);
  const connect = async (url: string) => {
    const c = new pg.Client({ connectionString: url, options: "-c TimeZone=UTC -c jit=off" });
    await c.connect();
    return c;
  };
  const pool = new pg.Pool({ connectionString: db.url, max: 4, options: "-c TimeZone=UTC -c jit=off" });
  const poller = await connect(db.url);
  const planner = await connect(db.url);
  const { url, token } = getServices().upstash;
  const store = new UpstashCheckpointStore({ url, token });
  const sink = createSink(engine.config());
  const queue = new MemoryQueue({ maxReceiveCount: Number.POSITIVE_INFINITY });
  const slot = `slotsync_bs_${name.replace(/-/g, "_")}_${SUFFIX}`;
  const resolver = new WriteTargetResolver({ slot, store, sink, ttlMs: 300 });
  const completion: CompletionDeps = {
    slot,
    sink,
    store,
    ...(options.schedule ? { schedule: options.schedule } : {}),
  };
  const builders = new Map([[index, builder]]);
  const consumer: ConsumerDeps = {
    connect: lender(pool),
    builders,
    sink,
    deadLetter: queue.deadLetterPublisher().send,
    targets: resolver.targets,
    enqueue: (messages: QueueMessage[]) => queue.publish(messages),
    rangeDone: async (id, range, documents) => {
      if (stack.autoComplete) await onRangeDone(completion, id, range, documents);
      else await store.markRange(slot, id, range, { status: "done", documents });
    },
  };
  const drain = () => runConsumerLoop(queue, batchHandler(consumer), { concurrency: 2 });
  const pollerDeps = {
    db: poller,
    reader: new PgSlotReader(poller, slot),
    resolver: new ChangeResolver(schema),
    publisher: new QueueHandoffPublisher(queue),
  };
  const pollOnce = async () => {
    const cycle = await runCycle(pollerDeps);
    await drain();
    return cycle.transactions;
  };
  const stack: Stack = {
    db,
    pool,
    slot,
    index,
    sink,
    store,
    queue,
    consumer,
    get schema() {
      return schema;
    },
    get builder() {
      return builder;
    },
    async redeploy(mapping) {
      schema = await resolve(mapping);
      builder = await builderOf(schema);
      builders.set(index, builder);
      pollerDeps.resolver = new ChangeResolver(schema);
    },
    autoComplete: true,
    completion,
    bootstrap: (publisher = queue, now) => ({
      ...completion,
      db: planner,
      schema,
      publisher,
      ...(now ? { now } : {}),
    }),
    pollOnce,
    async catchUp() {
      let transactions = 0;
      for (;;) {
        const handed = await pollOnce();
        transactions += handed;
        if (handed === 0) return transactions;
      }
    },
    async close() {
      await poller.end().catch(() => undefined);
      await planner.end().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await db.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
      const record = await readIndexRecord(store, slot, index).catch(() => undefined);
      const copies = new Set(await sink.getAliasTargets(index).catch(() => []));
      for (const c of [record?.serving, record?.building, ...(record?.retired ?? [])])
        if (c) copies.add(c.concrete);
      for (const copy of copies) await sink.deleteIndex(copy).catch(() => undefined);
      await store.reset(slot).catch(() => undefined);
      await sink.close();
      await db.drop();
    },
  };
  return stack;
}

async function expectConsistent(stack: Stack, index = stack.index): Promise<void> {
  await stack.sink.refresh(index);
  const client = await stack.pool.connect();
  try {
    const report = await compareIndexWithDatabase({
      sink: stack.sink,
      index,
      builder: stack.builder,
      client,
    });
    expect(report.compared).toBeGreaterThan(0);
    expect({ missing: report.missing, extra: report.extra, different: report.different }).toEqual({
      missing: [],
      extra: [],
      different: [],
    });
    expect(report.stored).toBe(report.compared);
  } finally {
    client.release();
  }
}

describe.each(ENGINES)("bootstrap on $name", (engine) => {
  const name = `run-${engine.name.slice(0, 2)}`;
  let stack: Stack;
  let events: EventBridgeClient | undefined;
  let schedule: PollerSchedule;
  const flag = {
    enabled: false,
    async enable() {
      flag.enabled = true;
    },
    async disable() {
      flag.enabled = false;
    },
  };
  const rule = `slotsync-bs-poller-${engine.name.slice(0, 2)}-${SUFFIX}`;

  beforeAll(async () => {
    if (engine.name === "elasticsearch") {
      // The real rule API (moto): created disabled, as the stack deploys it.
      const { endpoint, region } = getServices().moto;
      events = new EventBridgeClient({
        endpoint,
        region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
      });
      await events.send(
        new PutRuleCommand({ Name: rule, ScheduleExpression: "rate(1 minute)", State: "DISABLED" }),
      );
      schedule = new EventBridgeSchedule(events, rule);
    } else {
      schedule = flag;
    }
    stack = await createStack(engine, name, BOOKS, { schedule });
  });
  afterAll(async () => {
    await stack?.close();
    events?.destroy();
  });

  it("copies a database under concurrent writes; after the poller catches up, index == database", {
    timeout: 300_000,
  }, async () => {
    const writer = startWriter(stack.db.url, BOOKS);
    const summary = await runBootstrap(stack.bootstrap(), {
      fixReplicaIdentity: true,
      rangeRows: 1000,
      targetsCacheMs: 300,
    });
    expect(summary.slotCreated).toBe(true);
    const [first] = summary.indices;
    expect(first).toMatchObject({ index: stack.index, state: "copying", started: true, unsent: 0 });
    expect(first?.total).toBeGreaterThanOrEqual(BOOKS / 1000);
    expect(first?.sent).toBe(first?.total);

    // The consumers copy every range; the last rangeDone switches the alias.
    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    const progress = await stack.store.readBootstrap(stack.slot, first?.bootstrapId ?? "");
    expect(progress).toMatchObject({ done: first?.total, failed: 0 });
    expect(progress?.documents).toBeGreaterThan(BOOKS * 0.9);
    expect(await stack.sink.getAliasTargets(stack.index)).toEqual([first?.concrete]);
    expect((await readIndexRecord(stack.store, stack.slot, stack.index)).serving?.concrete).toBe(
      first?.concrete,
    );
    if (events) {
      const described = await events.send(new DescribeRuleCommand({ Name: rule }));
      expect(described.State).toBe("ENABLED");
    } else {
      expect(flag.enabled).toBe(true);
    }

    // The poller, enabled now, hands on what changed since the slot was created, while the
    // writer goes on for a few cycles; then the writes stop and it catches up completely.
    let caughtUp = 0;
    for (let i = 0; i < 3; i++) caughtUp += await stack.pollOnce();
    const ops = await writer.stop();
    expect(ops).toBeGreaterThan(0);
    const afterStop = await stack.catchUp();
    expect(caughtUp + afterStop).toBeGreaterThan(0);
    await expectConsistent(stack);
  });

  it("a second bootstrap leaves a served index alone and says how to re-index", async () => {
    const summary = await runBootstrap(stack.bootstrap(), { targetsCacheMs: 0, fixReplicaIdentity: true });
    expect(summary.slotCreated).toBe(false);
    expect(summary.indices).toMatchObject([{ state: "serving", started: false, sent: 0 }]);
    expect(summary.indices[0]?.message).toMatch(/re-index/);
  });

  it("re-indexes a changed mapping under writes: both copies stay in sync, the switch never fails a search", {
    timeout: 300_000,
  }, async () => {
    const [old] = await stack.sink.getAliasTargets(stack.index);
    if (!old) throw new Error("not served");
    await stack.redeploy({ book_title: { type: "keyword" } });
    stack.autoComplete = false;
    const writer = startWriter(stack.db.url, BOOKS);
    const pipeline = startPipeline(stack);
    const summary = await runBootstrap(stack.bootstrap(), {
      reindex: true,
      rangeRows: 1000,
      targetsCacheMs: 300,
    });
    const copy = summary.indices[0];
    expect(copy).toMatchObject({ started: true, state: "copying" });
    if (!copy?.bootstrapId || !copy.concrete) throw new Error("no copy");
    expect(copy.concrete).not.toBe(old);
    await until("the copy", async () => {
      const p = await stack.store.readBootstrap(stack.slot, copy.bootstrapId ?? "");
      return p !== null && p.done === p.total;
    });
    await writer.stop();
    await pipeline.stop();
    await stack.catchUp();
    // Not switched yet; the serving copy kept up with every write, and so did the new one.
    expect(await stack.sink.getAliasTargets(stack.index)).toEqual([old]);
    await expectConsistent(stack, old);
    await expectConsistent(stack, copy.concrete);

    // The switch, with writes and searches going on.
    const writer2 = startWriter(stack.db.url, BOOKS);
    const pipeline2 = startPipeline(stack);
    const searches = startSearches(stack.sink, stack.index);
    await until("searches before the switch", () => searches.seen.searches >= 20);
    const result = await completeBootstrap(stack.completion, copy.bootstrapId);
    expect(result).toMatchObject({ state: "serving", switched: true, previous: [old] });
    const at = searches.seen.searches;
    await until("searches after the switch", () => searches.seen.searches >= at + 20);
    const seen = await searches.stop();
    await writer2.stop();
    await pipeline2.stop();
    await stack.catchUp();
    expect(seen.errors).toEqual([]);
    expect(seen.min).toBeGreaterThan(0);
    await expectConsistent(stack);

    // The new mapping is in effect: book_title is a keyword now, text in the old copy.
    const { rows } = await stack.db.client.query<{ title: string }>(
      "SELECT title FROM book WHERE title LIKE 'Title %' ORDER BY id LIMIT 1",
    );
    const title = rows[0]?.title ?? "";
    await stack.sink.refresh(old);
    expect(await stack.sink.count(stack.index, { term: { book_title: title } })).toBe(1);
    expect(await stack.sink.count(old, { term: { book_title: title } })).toBe(0);

    // The old copy waits out the grace period, then goes.
    const record = await readIndexRecord(stack.store, stack.slot, stack.index);
    expect(record.retired.map((r) => r.concrete)).toEqual([old]);
    expect((await maintainBootstraps(stack.completion, [stack.index])).deleted).toEqual([]);
    const later = { ...stack.completion, now: () => Date.now() + 61 * 60_000 };
    expect((await maintainBootstraps(later, [stack.index])).deleted).toEqual([old]);
    expect(await stack.sink.indexExists(old)).toBe(false);
    stack.autoComplete = true;
  });

  it("reset keeps indices unless confirmed; bootstrap after it re-copies behind the alias; reset --yes clears all", async () => {
    const deps = { ...stack.completion, db: stack.db.client, schema: stack.schema };
    await expect(resetSlot(deps, { deleteIndices: true })).rejects.toBeInstanceOf(BootstrapError);
    const [serving] = await stack.sink.getAliasTargets(stack.index);

    const reset = await resetSlot(deps, { targetsCacheMs: 0 });
    expect(reset).toMatchObject({ slotDropped: true, deletedIndices: [], scheduleDisabled: true });
    const slots = await stack.db.client.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [
      stack.slot,
    ]);
    expect(slots.rows).toEqual([]);
    expect(await stack.store.listBootstraps(stack.slot)).toEqual([]);
    expect(await stack.sink.count(stack.index)).toBeGreaterThan(0);
    if (events) expect((await events.send(new DescribeRuleCommand({ Name: rule }))).State).toBe("DISABLED");
    else expect(flag.enabled).toBe(false);

    // Written while no slot exists: only a re-copy can bring it in.
    await stack.db.client.query("UPDATE book SET title = 'Written without a slot' WHERE id = 7");
    const again = await runBootstrap(stack.bootstrap(), { rangeRows: 2000, targetsCacheMs: 0 });
    expect(again.slotCreated).toBe(true);
    expect(again.indices).toMatchObject([{ started: true, state: "copying" }]);
    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    expect(await stack.sink.getAliasTargets(stack.index)).toEqual([again.indices[0]?.concrete]);
    await expectConsistent(stack);

    const wiped = await resetSlot(deps, { deleteIndices: true, yes: true, targetsCacheMs: 0 });
    expect(wiped.deletedIndices).toEqual([again.indices[0]?.concrete, serving].sort());
    expect(await stack.sink.indexExists(stack.index)).toBe(false);
    expect(await stack.store.listBootstraps(stack.slot)).toEqual([]);
  });
});

/** Polls `check` until it holds; fails after `timeoutMs`. */
async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Poller cycles and consumers in a loop, as the scheduled Lambdas would run, until stopped. */
function startPipeline(stack: Stack): { stop(): Promise<void> } {
  let running = true;
  let failure: unknown;
  const loop = (async () => {
    while (running) {
      const handed = await stack.pollOnce();
      if (handed === 0) await new Promise((r) => setTimeout(r, 20));
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    async stop() {
      running = false;
      await loop;
      if (failure) throw failure;
    },
  };
}

/** Searches the alias in a loop, recording every error and the smallest count seen. */
function startSearches(sink: SearchSink, alias: string) {
  const seen = { searches: 0, min: Number.POSITIVE_INFINITY, errors: [] as string[] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        seen.min = Math.min(seen.min, await sink.count(alias));
      } catch (error) {
        seen.errors.push((error as Error).message);
      }
      seen.searches++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

describe("bootstrap killed in the middle of sending, then resumed", () => {
  const engine = ENGINES[0] as (typeof ENGINES)[number];
  let stack: Stack;
  const books = 5000;

  beforeAll(async () => {
    stack = await createStack(engine, "resume", books, { replicaIdentity: true });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("sends every range exactly once across the crash and copies every document once", async () => {
    const sends = new Map<string, number>();
    const counting = (target: KeyPublisher, hangAfter: number): KeyPublisher => {
      let calls = 0;
      return {
        async publish(messages) {
          calls++;
          // The crash: the second batch never goes out and the call never returns.
          if (calls > hangAfter) return new Promise<void>(() => undefined);
          for (const m of messages)
            if (m.kind === "range") sends.set(m.rangeId, (sends.get(m.rangeId) ?? 0) + 1);
          await target.publish(messages);
        },
      };
    };
    // A store whose lease renewals stop at the crash, as a dead Lambda's would.
    const grants: { slot: string; token: number }[] = [];
    let crashed = false;
    const crashable = new Proxy(stack.store, {
      get(target, prop, receiver) {
        if (prop === "acquire") {
          return async (...args: Parameters<UpstashCheckpointStore["acquire"]>) => {
            const grant = await target.acquire(...args);
            if (grant) grants.push(grant);
            return grant;
          };
        }
        if (prop === "renew")
          return async (...args: Parameters<UpstashCheckpointStore["renew"]>) =>
            crashed ? false : target.renew(...args);
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const options = { rangeRows: 20, targetsCacheMs: 0 };
    const abandoned = runBootstrap(
      { ...stack.bootstrap(counting(stack.queue, 1)), store: crashable },
      options,
    );
    // Wait until the first batch was sent and recorded, then "kill" the invocation.
    const deadline = Date.now() + 60_000;
    let id: string | undefined;
    for (;;) {
      id = (await stack.store.listBootstraps(stack.slot))[0];
      const progress = id ? await stack.store.readBootstrap(stack.slot, id) : null;
      if (progress && progress.running >= 100) break;
      if (Date.now() > deadline) throw new Error("the first batch was never recorded");
      await new Promise((r) => setTimeout(r, 50));
    }
    crashed = true;
    void abandoned.catch(() => undefined);
    // Its lock expires (shortened here: released as the TTL would).
    for (const grant of grants) await stack.store.release(grant);

    const before = await stack.store.readBootstrap(stack.slot, id ?? "");
    expect(before?.running).toBe(100);
    expect(before?.pending).toBe((before?.total ?? 0) - 100);

    const resumed = await runBootstrap(stack.bootstrap(counting(stack.queue, Number.POSITIVE_INFINITY)), {
      ...options,
      resumeOnly: true,
    });
    expect(resumed.slotCreated).toBe(false);
    expect(resumed.indices).toMatchObject([
      { bootstrapId: id, started: false, sent: (before?.total ?? 0) - 100, resent: 0, unsent: 0 },
    ]);
    expect(sends.size).toBe(before?.total);
    expect([...sends.values()].every((n) => n === 1)).toBe(true);

    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    const after = await stack.store.readBootstrap(stack.slot, id ?? "");
    expect(after).toMatchObject({ done: before?.total, failed: 0, documents: books });
    expect(await stack.sink.getAliasTargets(stack.index)).toHaveLength(1);
    await stack.catchUp();
    await expectConsistent(stack);
  });

  it("a range whose message was lost is re-sent once it is overdue, and only then", async () => {
    // A fresh copy of the same index (re-index), whose messages partly vanish from the queue.
    const summary = await runBootstrap(stack.bootstrap(), {
      rangeRows: 500,
      reindex: true,
      targetsCacheMs: 0,
    });
    const copy = summary.indices[0];
    expect(copy).toMatchObject({ started: true, state: "copying" });
    const lost = stack.queue.receive({ maxMessages: 3, visibilityTimeoutMs: 0 });
    for (const m of lost) stack.queue.delete(m.receiptHandle);
    expect(lost).toHaveLength(3);
    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    const stuck = await stack.store.readBootstrap(stack.slot, copy?.bootstrapId ?? "");
    expect(stuck).toMatchObject({ running: 3, done: (copy?.total ?? 0) - 3 });

    const early = await runBootstrap(stack.bootstrap(), {
      resumeOnly: true,
      targetsCacheMs: 0,
    });
    expect(early.indices).toMatchObject([{ sent: 0, resent: 0, state: "copying" }]);

    const later = () => Date.now() + 31 * 60_000;
    const overdue = await runBootstrap(stack.bootstrap(stack.queue, later), {
      resumeOnly: true,
      targetsCacheMs: 0,
    });
    expect(overdue.indices).toMatchObject([{ sent: 0, resent: 3 }]);
    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    expect(await stack.sink.getAliasTargets(stack.index)).toEqual([copy?.concrete]);
    await expectConsistent(stack);
  });

  it("a re-index whose schema changed before it finished starts over with the new mappings", async () => {
    const first = await runBootstrap(stack.bootstrap(), {
      rangeRows: 1000,
      reindex: true,
      targetsCacheMs: 0,
    });
    const abandoned = first.indices[0];
    await stack.redeploy({ reviews: { type: "nested" } });
    const events: BootstrapEvent[] = [];
    const second = await runBootstrap(stack.bootstrap(), {
      rangeRows: 1000,
      targetsCacheMs: 0,
      onEvent: (e) => events.push(e),
    });
    const copy = second.indices[0];
    expect(copy).toMatchObject({ started: true, state: "copying" });
    expect(copy?.bootstrapId).not.toBe(abandoned?.bootstrapId);
    expect(events).toContainEqual(
      expect.objectContaining({ step: "abandoned", concrete: abandoned?.concrete }),
    );
    // The abandoned copy's ranges still in the queue are harmless: it can never be switched in.
    await runConsumerLoop(stack.queue, batchHandler(stack.consumer), { concurrency: 2 });
    expect(await stack.sink.getAliasTargets(stack.index)).toEqual([copy?.concrete]);
    const record = await readIndexRecord(stack.store, stack.slot, stack.index);
    expect(record.retired.map((r) => r.concrete)).toContain(abandoned?.concrete);
    await expectConsistent(stack);
  });
});
