import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileCheckpointStore } from "../../lib/checkpoint";
import type { StatusReport } from "../../lib/cli/status/types";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { createSink, type SearchSink } from "../../lib/sink";
import { elasticsearchEnv, lines, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";
import { createTestQueues, type TestQueues } from "../support/sqs";

const id = randomBytes(4).toString("hex");
const slot = `cli_status_${id}`;
const index = `cli_status_${id}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let sink: SearchSink;
let queues: TestQueues;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    ...elasticsearchEnv(),
    ...extra,
  };
}

/** The table as label → value (labels are padded to one width). */
function table(stdout: string): Map<string, string> {
  return new Map(
    lines(stdout).map((l) => {
      const m = /^(.+?)\s{2,}(.*)$/.exec(l);
      return [m?.[1] ?? l, m?.[2] ?? ""] as [string, string];
    }),
  );
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  scratch = await scratchDir("cli-status");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  const resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("bookstore"), { env: { DATABASE: db.name } }),
    db.client,
  );
  for (const need of resolved.replicaIdentityNeeds) await db.client.query(need.sql);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  const es = getServices().elasticsearch;
  sink = createSink({ engine: "elasticsearch", node: es.url, auth: { type: "basic", ...es } });
  await sink.createIndex(index, { mappings: { properties: { doc_coordinates: { type: "float" } } } });
  // Every book changes, so one run indexes them all: documents then equal root rows.
  await db.client.query("UPDATE book SET title = title || '.'");
  const run = await runCli(["run", "--once", "--quiet"], { env: env() });
  expect(run.stderr).toBe("");
  await sink.refresh(index);
  queues = await createTestQueues("cli-status");
});

afterAll(async () => {
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await queues?.remove();
  await scratch?.remove();
});

describe("slotsync status", () => {
  it("shows the slot, lag, poller, queue and documents against root rows in a table, exit 0", async () => {
    const r = await runCli(["status"], { env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const t = table(r.stdout);
    expect(t.get("slot")).toBe(`${slot}: exists, not active, wal_status reserved`);
    // Other suites write WAL meanwhile: the lag and retained sizes vary, their form does not.
    expect(t.get("confirmed LSN")).toMatch(/^[0-9A-F]+\/[0-9A-F]+ \(lag \d+(\.\d)? (B|KiB|MiB|GiB)\)$/);
    expect(t.get("retained WAL")).toMatch(/^\d+(\.\d)? (B|KiB|MiB|GiB) \(safe_wal_size unlimited\)$/);
    expect(t.get("last success")).toMatch(/^\d{4}-\d\d-\d\dT.*Z \((\d+ (s|min|h) )+ago\)$/);
    expect(t.get("checkpoint")).toMatch(/^[0-9A-F]+\/[0-9A-F]+ at /);
    expect(t.get("lease")).toBe("free");
    expect(t.get("queue")).toMatch(/^in-process/);
    expect(t.get(`index ${index}`)).toBe("4 documents; 4 rows in public.book");
  });

  it("--json gives the same facts to machines", async () => {
    const r = await runCli(["status", "--json"], { env: env() });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as StatusReport;
    const { rows } = await db.client.query<{ lsn: string }>(
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    expect(report.slot).toMatchObject({
      name: slot,
      exists: true,
      plugin: "wal2json",
      confirmedLsn: rows[0]?.lsn,
    });
    expect(report.poller?.checkpointLsn).toBe(rows[0]?.lsn);
    expect(report.indices).toEqual([
      { index, exists: true, documents: 4, aliasOf: [], rootTable: "public.book", rootRows: 4 },
    ]);
    expect(report.queue).toEqual({ kind: "in-process" });
    expect(report.configuration.postgres).toBe(`127.0.0.1:${new URL(db.url).port}/${db.name}`);
    expect(r.stdout).not.toContain(getServices().elasticsearch.password);
    expect(report.errors).toEqual([]);
  });

  it("shows the SQS queue depth and bootstrap progress from the checkpoint store", async () => {
    const { endpoint, region } = getServices().elasticmq;
    for (const body of ["a", "b"]) {
      await queues.client.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: body }));
    }
    const store = new FileCheckpointStore({ dir: join(scratch.dir, "state") });
    await store.beginBootstrap(slot, { bootstrapId: "b1", index, lsn: "1", rangeIds: ["r1", "r2"] });
    await store.markRange(slot, "b1", "r1", { status: "done", documents: 3 });
    const sqsEnv = {
      SQS_QUEUE_URL: queues.queueUrl,
      SQS_DLQ_URL: queues.dlqUrl,
      SQS_ENDPOINT: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
    };
    const json = JSON.parse(
      (await runCli(["status", "--json"], { env: env(sqsEnv) })).stdout,
    ) as StatusReport;
    expect(json.queue).toEqual({ kind: "sqs", visible: 2, inFlight: 0, deadLetters: 0 });
    expect(json.bootstraps).toEqual([
      expect.objectContaining({
        bootstrapId: "b1",
        index,
        done: 1,
        total: 2,
        documents: 3,
        completedAt: null,
      }),
    ]);
    const t = table((await runCli(["status"], { env: env(sqsEnv) })).stdout);
    expect(t.get("queue")).toBe(`${queues.queueUrl}: 2 waiting, 0 in flight, 0 in the DLQ`);
    expect(t.get("bootstrap b1")).toMatch(new RegExp(`^${index}: 1/2 ranges done, 3 documents, started `));
  });

  it("with partial configuration shows what it can and names what is missing, exit 0", async () => {
    const r = await runCli(["status"], { env: { SCHEMA: schemaPath, DATABASE: "x" } });
    expect(r.code).toBe(0);
    const t = table(r.stdout);
    expect(t.get("postgres")).toBe("not configured (PG_URL)");
    expect(t.get("slot")).toBe("unknown (needs PG_URL)");
    expect(t.get(`index ${index}`)).toBe("documents unknown");
    expect(lines(r.stdout).filter((l) => l.startsWith("not configured"))).toHaveLength(2);
  });

  it("a missing slot says to bootstrap; an unreachable database is an error row, exit 1", async () => {
    const missing = await runCli(["status"], { env: env({ SLOTSYNC_SLOT: `none_${id}` }) });
    expect(missing.code).toBe(0);
    expect(table(missing.stdout).get("slot")).toBe(`none_${id}: does not exist (run slotsync bootstrap)`);
    const down = await runCli(["status"], { env: env({ PG_URL: "postgresql://u:secret@127.0.0.1:9/x" }) });
    expect(down.code).toBe(1);
    expect(table(down.stdout).get("error")).toMatch(
      /^PostgreSQL: 127\.0\.0\.1:9\/x: cannot connect to PostgreSQL: connection refused/,
    );
    expect(table(down.stdout).get(`index ${index}`)).toMatch(/^4 documents$/);
    expect(down.stdout).not.toContain("secret");
  });
});
