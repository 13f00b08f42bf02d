import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsumerDeps, processBatch } from "../../lib/consumer";
import { lender } from "../../lib/database";
import type { DocumentBuilder } from "../../lib/document";
import { type DeadLetter, encodeMessage, type QueueMessage } from "../../lib/queue";
import { createBuilders } from "../../lib/runtime";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink, TOMBSTONE_INDEX_SETTINGS } from "../../lib/sink";
import { ENGINES } from "../support/engines";
import { createTestDatabase, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

// The schema's `pipeline` on the real engines, on the live path (keys messages) and the copy path
// that bootstrap and re-index use (range messages): while the pipeline does not exist each
// document goes to the dead-letter path alone with the engine's reason, which proves the pipeline
// is named in every write; once it exists the same messages write every document through it.
//
// The local engines are the integration-test distributions: neither has the ingest-common module
// (no `set`, `fail`, ... processors) nor lang-painless (no `script` processor); both refuse such a
// pipeline with `No processor type exists with name [set]`. The pipeline here therefore has no
// processors; how a processor's own failure is read (the engines name the processor and
// pipeline in the error, some versions with HTTP 500) is covered by test/unit/sink/classify.test.ts.

const ROWS = 30;

describe.each(ENGINES)("ingest pipeline from the schema on $name", ({ name, config }) => {
  const suffix = randomBytes(4).toString("hex");
  const index = `pipeline-${name}-${suffix}`;
  const pipelineName = `slotsync-test-${suffix}`;
  let db: TestDatabase;
  let sink: SearchSink;
  let builders: Map<string, DocumentBuilder>;
  let pool: pg.Pool;

  /** A raw request to the engine, for what the sink does not manage (ingest pipelines, stats). */
  const engine = async (method: string, path: string, body?: unknown) => {
    const s = getServices();
    const base = name === "elasticsearch" ? s.elasticsearch.url : s.opensearch.url;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (name === "elasticsearch") {
      headers.authorization = `Basic ${Buffer.from(`${s.elasticsearch.username}:${s.elasticsearch.password}`).toString("base64")}`;
    }
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await createTestDatabase(`pipeline_${name.slice(0, 2)}`);
    await db.client.query("CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL)");
    await db.client.query(`INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g`);
    const spec = parseSchema([
      { database: db.name, index, pipeline: pipelineName, nodes: { table: "item", columns: ["id", "name"] } },
    ]);
    builders = await createBuilders(await resolveSchema(spec, db.client), undefined);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    sink = createSink(config());
    await sink.createIndex(index, { settings: { ...TOMBSTONE_INDEX_SETTINGS, number_of_replicas: 0 } });
  });

  afterAll(async () => {
    await sink?.deleteIndex(index).catch(() => undefined);
    await sink?.close();
    await engine("DELETE", `/_ingest/pipeline/${pipelineName}`).catch(() => undefined);
    await pool?.end();
    await db?.drop();
  });

  const run = async (messages: QueueMessage[]) => {
    const letters: DeadLetter[] = [];
    const deps: ConsumerDeps = {
      connect: lender(pool),
      builders,
      sink,
      deadLetter: async (l) => void letters.push(...l),
    };
    const result = await processBatch(
      {
        Records: messages.map((m, i) => ({
          messageId: `m${i}`,
          body: encodeMessage(m),
          attributes: { ApproximateReceiveCount: "1" },
        })),
      },
      deps,
    );
    return { result, letters };
  };
  const version = BigInt(Date.now()) * 1000n;
  const live: QueueMessage = {
    kind: "keys",
    index,
    keys: [["1"], ["2"], ["3"]],
    lsn: version,
    sentAt: new Date().toISOString(),
  };
  const copy: QueueMessage = {
    kind: "range",
    index,
    range: { from: ["3"], to: null },
    lsn: version,
    bootstrapId: "b1",
    rangeId: "r1",
    sentAt: new Date().toISOString(),
  };

  it("dead-letters each document alone with the engine's reason while the pipeline is missing", async () => {
    const { result, letters } = await run([live, copy]);
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.stats).toMatchObject({ indexed: 0, rejected: ROWS });
    expect(letters.map((l) => l.messageId).sort()).toEqual(["m0", "m1"]);
    for (const letter of letters) {
      expect(letter.reason).toMatch(new RegExp(`pipeline with id \\[${pipelineName}\\] does not exist`));
      expect(letter.reason).toMatch(/^document \d+ rejected by /);
    }
    await sink.refresh(index);
    expect(await sink.count(index)).toBe(0);
  });

  it("writes every document through the pipeline once it exists, on the live and the copy path", async () => {
    const created = await engine("PUT", `/_ingest/pipeline/${pipelineName}`, {
      description: "slotsync test pipeline",
      processors: [],
    });
    expect(created.status).toBe(200);
    const { result, letters } = await run([live, copy]);
    expect(letters).toEqual([]);
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.stats).toMatchObject({ indexed: ROWS, rejected: 0 });
    await sink.refresh(index);
    expect(await sink.count(index)).toBe(ROWS);
    const [first] = await sink.getDocuments(index, ["1"]);
    expect(first?.source).toEqual({ id: 1, name: "item 1" });
  });
});
