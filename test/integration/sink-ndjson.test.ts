import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, logEvents, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { createFixtureDatabase, type TestDatabase } from "../support/pg";

/**
 * The NDJSON sink end to end, through the CLI as a user runs it: `slotsync bootstrap` emits the
 * full copy as index records (no index, no alias), `slotsync run` emits live changes, deletes
 * included; `status` and `reset` say the sink has no indices.
 */

const id = randomBytes(4).toString("hex");
const slot = `sink_ndjson_${id}`;
const index = `sink-ndjson-${id}`;
/** Books beyond the fixture's four, without reviews or authors, so one can be deleted alone. */
const EXTRA_BOOKS = 120;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let schemaPath: string;
let outPath: string;

interface StreamRecord {
  op: "index" | "delete" | "truncate";
  index: string;
  id?: string;
  version: string;
  source?: unknown;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: schemaPath,
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    WRITE_TARGETS_CACHE_SECONDS: "0",
    BOOTSTRAP_RANGE_ROWS: "40",
    POLL_INTERVAL_SECONDS: "0.1",
    SINK: "ndjson",
    NDJSON_PATH: outPath,
    ...extra,
  };
}

/** `slotsync render` (the ground truth): `_id` → `_source`. */
async function rendered(ids?: string[]): Promise<Map<string, unknown>> {
  const r = await runCli(["render", ...(ids ? ["--ids", ids.join(",")] : [])], { env: env() });
  expect(r.code).toBe(0);
  const docs = new Map<string, unknown>();
  for (const line of lines(r.stdout)) {
    const doc = JSON.parse(line) as { _id: string; _source: unknown };
    docs.set(doc._id, doc._source);
  }
  return docs;
}

async function fileRecords(): Promise<StreamRecord[]> {
  return lines(await readFile(outPath, "utf8")).map((l) => JSON.parse(l) as StreamRecord);
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  await db.client.query(`
    INSERT INTO book (id, isbn, title, description, publisher_id, publish_date, price)
      SELECT g, 'isbn-' || g, 'Title ' || g, 'About book ' || g, 1 + g % 3,
             timestamp '2000-01-01' + g * interval '1 hour', (g % 100) + 0.99
        FROM generate_series(5, ${4 + EXTRA_BOOKS}) g;
    ANALYZE;`);
  scratch = await scratchDir("sink-ndjson");
  schemaPath = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
  outPath = join(scratch.dir, "out.ndjson");
}, 120_000);

afterAll(async () => {
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("NDJSON sink through the CLI", () => {
  let copyVersion: bigint;

  it("bootstrap emits every document as an index record equal to render, in several ranges", async () => {
    const r = await runCli(["bootstrap", "--fix-replica-identity"], { env: env() });
    expect(r.code).toBe(0);
    const events = logEvents(r.stderr);
    expect(events.filter((e) => e.level !== "info")).toEqual([]);
    expect(Number(events.find((e) => e.event === "planned")?.ranges)).toBeGreaterThan(1);
    // No index is created for a stream: the copy is emitted under the index name.
    expect(events.some((e) => e.event === "index-created")).toBe(false);
    expect(r.stdout).toMatch(new RegExp(`^${index}: emitted ${4 + EXTRA_BOOKS} documents in `));
    const records = await fileRecords();
    expect(new Set(records.map((x) => `${x.op} ${x.index}`))).toEqual(new Set([`index ${index}`]));
    // Ranges may be copied more than once (a resend); every copy has the one version of the copy.
    const versions = new Set(records.map((x) => x.version));
    expect(versions.size).toBe(1);
    copyVersion = BigInt([...versions][0] as string);
    const emitted = new Map(records.map((x) => [x.id as string, x.source]));
    const expected = await rendered();
    expect(expected.size).toBe(4 + EXTRA_BOOKS);
    expect([...emitted.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [docId, source] of expected) expect(emitted.get(docId), `document ${docId}`).toEqual(source);
  });

  it("bootstrap again finds the copy emitted and emits nothing", async () => {
    const before = (await fileRecords()).length;
    const r = await runCli(["bootstrap", "--quiet"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${index}: served and in sync; nothing to do`);
    expect((await fileRecords()).length).toBe(before);
  });

  it("run --once to stdout: an update is an index record equal to render, a deleted root a delete record", async () => {
    await db.client.query("UPDATE book SET title = 'Matilda (NDJSON)' WHERE id = 1");
    await db.client.query(`DELETE FROM book WHERE id = ${4 + EXTRA_BOOKS}`);
    const r = await runCli(["run", "--once"], { env: env({ NDJSON_PATH: "-" }) });
    expect(r.code).toBe(0);
    const records = lines(r.stdout).map((l) => JSON.parse(l) as StreamRecord);
    const updated = (await rendered(["1"])).get("1");
    expect(updated).toMatchObject({ book_title: "Matilda (NDJSON)" });
    const indexRecord = records.find((x) => x.op === "index" && x.id === "1");
    expect(indexRecord?.source).toEqual(updated);
    const deleted = String(4 + EXTRA_BOOKS);
    expect((await rendered([deleted])).size).toBe(0);
    const deleteRecord = records.find((x) => x.op === "delete" && x.id === deleted);
    expect(deleteRecord).toMatchObject({ index });
    // Live changes win over the copy: their commit LSNs are above the copy's version.
    expect(BigInt(indexRecord?.version ?? "0")).toBeGreaterThan(copyVersion);
    expect(BigInt(deleteRecord?.version ?? "0")).toBeGreaterThan(copyVersion);
    // The logs stayed on stderr: every stdout line is a record.
    expect(records.every((x) => x.index === index && ["index", "delete"].includes(x.op))).toBe(true);
  });

  it("status says the sink has no indices instead of failing", async () => {
    const r = await runCli(["status"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/indices\s+none: the sink is a stream/);
    expect(r.stdout).toMatch(new RegExp(`copy ${index}\\s+every document emitted by bootstrap`));
    const json = await runCli(["status", "--json"], { env: env() });
    expect(JSON.parse(json.stdout).configuration).toMatchObject({
      search: `ndjson ${outPath}`,
      sinkHasIndices: false,
    });
  });

  it("verify and reconcile refuse the stream sink before opening anything, naming the fix", async () => {
    for (const command of ["verify", "reconcile"]) {
      const r = await runCli([command], { env: env() });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `slotsync ${command} needs a search engine, and the ndjson sink keeps no indices`,
      );
      expect(r.stderr).toContain("SINK=elasticsearch or SINK=opensearch");
    }
  });

  it("reset --delete-indices --yes drops the slot and says there are no indices to delete", async () => {
    const r = await runCli(["reset", "--delete-indices", "--yes"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dropped replication slot "${slot}"`);
    expect(r.stdout).toContain("no indices to delete: the ndjson sink has none");
  });
});
