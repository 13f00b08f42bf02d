import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { createDocumentBuilder, type DocumentBuilder } from "../../lib/document";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { applySchemaFixture, createTestDatabase, readSchemaFixture, type TestDatabase } from "./pg";
import { SyncPipeline } from "./pipeline";
import { getServices } from "./services";

/** A database from a schema fixture, a slot, an Elasticsearch index per schema index, and the sync. */
export interface SyncSuite {
  db: TestDatabase;
  schema: ResolvedSchema;
  slot: string;
  sink: SearchSink;
  store: UpstashCheckpointStore;
  builders: Map<string, DocumentBuilder>;
  /** Physical index per schema index. */
  targets: Map<string, string>;
  pipeline: SyncPipeline;
  /** Resolves the schema again (after DDL the test wants a fresh resolution of). */
  close(): Promise<void>;
}

/**
 * Sets a suite up: fixture DDL and data, the replica identities `validate` offers, a slot, empty
 * indices, then a first copy (a rebuild at the slot's position, as bootstrap versions it) so the
 * index starts equal to the database.
 */
export async function openSyncSuite(
  fixture: string,
  options: { schemaFile?: string; batchBudgetMs?: number; setup?: string } = {},
): Promise<SyncSuite> {
  const db = await createTestDatabase(fixture);
  await applySchemaFixture(db.client, fixture);
  if (options.setup) await db.client.query(options.setup);
  const spec = parseSchema(await readSchemaFixture(fixture, options.schemaFile), { env: { DATABASE: "x" } });
  const schema = await resolveSchema(spec, db.client, { checkDatabaseName: false });
  for (const need of schema.replicaIdentityNeeds) await db.client.query(need.sql);
  const slot = `slotsync_${fixture.slice(0, 12)}_${randomBytes(4).toString("hex")}`;
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  const s = getServices();
  const sink = createSink({
    engine: "elasticsearch",
    node: s.elasticsearch.url,
    auth: { type: "basic", username: s.elasticsearch.username, password: s.elasticsearch.password },
  });
  const store = new UpstashCheckpointStore({ url: s.upstash.url, token: s.upstash.token });
  const builders = new Map<string, DocumentBuilder>();
  const targets = new Map<string, string>();
  for (const index of schema.indices) {
    builders.set(index.spec.index, await createDocumentBuilder(index));
    const target = `slotsync-${index.spec.index.toLowerCase()}-${randomBytes(4).toString("hex")}`;
    targets.set(index.spec.index, target);
    await sink.createIndex(target, { settings: { ...TOMBSTONE_INDEX_SETTINGS } });
  }
  const pipeline = new SyncPipeline({
    dbUrl: db.url,
    slot,
    schema,
    builders,
    sink,
    targets,
    store,
    spec,
    ...(options.batchBudgetMs === undefined ? {} : { batchBudgetMs: options.batchBudgetMs }),
  });
  await pipeline.open();
  const { rows } = await db.client.query<{ lsn: string }>(
    "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  pipeline.enqueue(
    schema.indices.map((i) => ({
      kind: "rebuild" as const,
      index: i.spec.index,
      lsn: BigInt(rows[0]?.lsn ?? "0"),
      sentAt: new Date().toISOString(),
    })),
  );
  await pipeline.consume();
  return {
    db,
    schema,
    slot,
    sink,
    store,
    builders,
    targets,
    pipeline,
    async close() {
      await pipeline.close();
      for (const target of targets.values()) await sink.deleteIndex(target).catch(() => undefined);
      await sink.close();
      await store.reset(slot).catch(() => undefined);
      await db.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
      await db.drop();
    },
  };
}

/** Runs `work` while the sync polls and consumes in the background, then lets the sync settle. */
export async function whileSyncing(suite: SyncSuite, work: () => Promise<void>): Promise<void> {
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await suite.pipeline.poll();
      await suite.pipeline.consume();
      // The poll interval: the sync runs beside the work, not in lock step with it.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await work();
  } finally {
    stop = true;
    await loop;
  }
  await suite.pipeline.drain();
}

/**
 * Asserts that the index of `index` equals what the database builds (`slotsync render`): nothing
 * missing, extra or different, and as many documents as `rootTable` has rows.
 */
export async function expectIndexEqualsDatabase(
  suite: SyncSuite,
  index: string,
  rootTable: string,
): Promise<void> {
  const report = await suite.pipeline.compare(index);
  expect({ missing: report.missing, extra: report.extra, different: report.different }).toEqual({
    missing: [],
    extra: [],
    different: [],
  });
  const { rows } = await suite.db.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${rootTable}`);
  expect(report.stored).toBe(Number(rows[0]?.n));
}
