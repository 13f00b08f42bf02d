import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handler } from "../../lambdas/bootstrap";
import { onRangeDone, WriteTargetResolver } from "../../lib/bootstrap";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { processBatch } from "../../lib/consumer";
import { lender } from "../../lib/database";
import { createDocumentBuilder } from "../../lib/document";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { compareIndexWithDatabase } from "../support/consistency";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../support/lambda-env";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

// The bootstrap Lambda handler wired from environment variables as in AWS: start plans and sends
// range messages to SQS (ElasticMQ) and returns; the messages, fed to the consumer, copy the
// database and switch the alias; status and reset report and clean up.

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_bslambda_${suffix}`;
const index = `slotsync-bslambda-${suffix}`;
const saved = { ...process.env };
let db: TestDatabase;
let queues: TestQueues;
let sink: SearchSink;
let dir: string;

const context = () => ({
  awsRequestId: `req-${randomBytes(3).toString("hex")}`,
  getRemainingTimeInMillis: () => 120_000,
});

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  await db.client.query(`
    INSERT INTO book (id, isbn, title, publisher_id) SELECT g, 'isbn-' || g, 'Title ' || g, 1 + g % 3 FROM generate_series(5, 1200) g;
    ANALYZE`);
  const [spec] = (await readSchemaFixture("bookstore")) as Record<string, unknown>[];
  // Without the analysis the local engines lack (analysis-common).
  const schema = structuredClone(spec) as {
    index: string;
    setting?: unknown;
    mapping: unknown;
    nodes: { transform: { mapping: Record<string, unknown> } };
  };
  schema.index = index;
  delete schema.setting;
  delete schema.nodes.transform.mapping.book_isbn;
  schema.mapping = { authors: { type: "nested" }, doc_coordinates: { type: "float" } };
  dir = await mkdtemp(join(tmpdir(), "slotsync-bslambda-"));
  await writeFile(join(dir, "schema.json"), JSON.stringify([schema]));
  queues = await createTestQueues("bslambda");
  Object.assign(
    process.env,
    lambdaEnvironment(
      { pgUrl: db.url, schema: join(dir, "schema.json"), slot, queues },
      {
        DATABASE: db.name,
        BOOTSTRAP_RANGE_ROWS: "200",
        WRITE_TARGETS_CACHE_SECONDS: "0",
      },
    ),
  );
  sink = createSink(elasticsearchSinkConfig());
});

afterAll(async () => {
  process.env = saved;
  await handler({ action: "reset", deleteIndices: true, yes: true }, context()).catch(() => undefined);
  await sink?.close();
  await db?.drop();
  await queues?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("bootstrap Lambda", () => {
  it("start sends the ranges and returns; the consumers copy and switch; status and reset report", async () => {
    const started = await handler({ action: "start", fixReplicaIdentity: true }, context());
    expect(started).toMatchObject({ action: "start", slot, slotCreated: true });
    const [copy] = started.indices as {
      bootstrapId: string;
      concrete: string;
      total: number;
      sent: number;
    }[];
    if (!copy) throw new Error("no copy");
    expect(copy.total).toBe(7); // 1200 books in ranges of 200, plus the open range above the last split
    expect(copy.sent).toBe(copy.total);

    const status = await handler({ action: "status" }, context());
    expect(status).toMatchObject({
      slotState: { exists: true },
      indices: [{ index, servingKind: "none", building: { progress: { total: 7, done: 0, running: 7 } } }],
    });
    expect(await handler({ action: "resume" }, context())).toMatchObject({
      indices: [{ sent: 0, resent: 0, state: "copying" }],
    });

    // What the SQS event source would deliver to the consumer Lambda.
    const bodies = await queues.drain({ count: copy.total, timeoutMs: 20_000 });
    expect(bodies).toHaveLength(copy.total);
    const { url, token } = getServices().upstash;
    const store = new UpstashCheckpointStore({ url, token });
    const resolved = await resolveSchema(
      parseSchema(JSON.parse(await readFile(join(dir, "schema.json"), "utf8")), {
        env: { DATABASE: db.name },
      }),
      db.client,
    );
    const builder = await createDocumentBuilder(resolved.indices[0] as (typeof resolved.indices)[0]);
    const pool = new pg.Pool({ connectionString: db.url, max: 2, options: "-c TimeZone=UTC" });
    try {
      const result = await processBatch(
        { Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) },
        {
          connect: lender(pool),
          builders: new Map([[index, builder]]),
          sink,
          deadLetter: async () => undefined,
          targets: new WriteTargetResolver({ slot, store, sink, ttlMs: 0 }).targets,
          rangeDone: async (id, range, documents) => {
            await onRangeDone({ slot, store, sink }, id, range, documents);
          },
        },
      );
      expect(result.response.batchItemFailures).toEqual([]);
      const client = await pool.connect();
      try {
        const report = await compareIndexWithDatabase({ sink, index, builder, client });
        expect(report).toMatchObject({ compared: 1200, stored: 1200, missing: [], extra: [], different: [] });
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }

    expect(await handler({ action: "status" }, context())).toMatchObject({
      indices: [{ servingKind: "alias", serving: [copy.concrete], building: null, reindexNeeded: false }],
    });
    const reset = await handler({ action: "reset", deleteIndices: true, yes: true }, context());
    expect(reset).toMatchObject({ slotDropped: true, deletedIndices: [copy.concrete] });
    expect(await sink.indexExists(index)).toBe(false);
  });
});
