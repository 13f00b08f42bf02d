/**
 * A PGSync user's `.env` (PGSync's variable names only: PG_HOST, PG_USER, ELASTICSEARCH_HOST, …)
 * and PGSync's node example drive `validate`, `bootstrap` and `run` unchanged.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSink, type SearchSink } from "../../lib/sink";
import { type CliResult, lines, runCli, scratchDir, startCli } from "../support/cli";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";
import { dotenvText, pgsyncSettings } from "../support/pgsync";
import { getServices } from "../support/services";

const index = `pgsync_env_${randomBytes(4).toString("hex")}`;
// A role of its own, so its password is a distinctive string to look for in every output.
const role = `${index}_role`;
const password = `pw-${randomBytes(8).toString("hex")}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let sink: SearchSink;
const secrets: string[] = [];

/** Runs a command in the scratch directory: its `.env` is the only configuration. */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: scratch.dir });
}

function expectNoSecret(result: { stdout: string; stderr: string }): void {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

async function rendered(): Promise<Map<string, unknown>> {
  const r = await cli(["render"]);
  expect(r.code).toBe(0);
  return new Map(
    lines(r.stdout).map((l) => {
      const doc = JSON.parse(l) as { _id: string; _source: unknown };
      return [doc._id, doc._source];
    }),
  );
}

async function indexed(): Promise<Map<string, unknown>> {
  await sink.refresh(index);
  const ids = Array.from({ length: 12 }, (_, i) => String(i + 1));
  const docs = await sink.getDocuments(index, ids);
  return new Map(docs.filter((d) => d !== undefined).map((d) => [d.id, d.source]));
}

/** Polls until the index equals what render builds now, with a deadline. */
async function converged(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [want, have] = [await rendered(), await indexed()];
    if (JSON.stringify([...want].sort()) === JSON.stringify([...have].sort())) return;
    if (Date.now() > deadline) expect(Object.fromEntries(have)).toEqual(Object.fromEntries(want));
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  db = await createFixtureDatabase("node");
  scratch = await scratchDir("pgsync-env");
  const services = getServices();
  const es = new URL(services.elasticsearch.url);
  await db.client.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${password}'`);
  const settings = pgsyncSettings({
    dir: scratch.dir,
    pg: { ...services.postgres, user: role, password },
    es: {
      host: es.hostname,
      port: Number(es.port),
      user: services.elasticsearch.username,
      password: services.elasticsearch.password,
    },
    redis: { host: services.redis.host, port: services.redis.port, db: 0 },
  });
  expect(Object.keys(settings).every((k) => !k.endsWith("_URL"))).toBe(true);
  secrets.push(settings.PG_PASSWORD ?? "", settings.ELASTICSEARCH_PASSWORD ?? "");
  // Slot names are per cluster: a slot of its own keeps this suite apart from others on the shared server.
  const slot = `pgenv_${db.name}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63);
  await writeFile(join(scratch.dir, ".env"), dotenvText({ ...settings, SLOTSYNC_SLOT: slot }));
  const schema = JSON.stringify(await readSchemaFixture("node"))
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a schema's ${NAME} reference, not a template
    .replace('"${DATABASE}"', JSON.stringify(db.name))
    .replace('"index":"node"', `"index":${JSON.stringify(index)}`);
  await writeFile(join(scratch.dir, "schema.json"), schema);
  sink = createSink({
    engine: "elasticsearch",
    node: services.elasticsearch.url,
    auth: {
      type: "basic",
      username: services.elasticsearch.username,
      password: services.elasticsearch.password,
    },
  });
});

afterAll(async () => {
  await sink?.deleteIndex(index).catch(() => undefined);
  await sink?.close();
  await db?.client
    .query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [
      db.name,
    ])
    .catch(() => undefined);
  await db?.drop();
  const admin = new pg.Client({ connectionString: getServices().postgres.url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
  await scratch?.remove();
});

describe("a PGSync .env, unchanged", () => {
  it("validate connects with PG_HOST/PG_PORT/PG_USER/PG_PASSWORD to the schema's database", async () => {
    const r = await cli(["validate", "--fix-replica-identity"]);
    expectNoSecret(r);
    // The PGSync settings slotsync has no use for are named once each, with what replaces them.
    expect(lines(r.stderr).map((l) => l.replace(/ is PGSync's and is not read by slotsync: .*/, ""))).toEqual(
      [
        "slotsync: warning: REDIS_HOST",
        "slotsync: warning: REDIS_PORT",
        "slotsync: warning: REDIS_DB",
        "slotsync: warning: CHECKPOINT_PATH",
      ],
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`database ${db.name}: ready`);
  });

  it("bootstrap copies every document into the index named in the schema", async () => {
    const r = await cli(["bootstrap"]);
    expectNoSecret(r);
    expect(r.code).toBe(0);
    const have = await indexed();
    expect(have.size).toBe(9);
    expect(Object.fromEntries(have)).toEqual(Object.fromEntries(await rendered()));
  });

  it("run follows changes of the self-referencing tree (rename, re-parent, delete) until SIGTERM", async () => {
    const run = startCli(["run"], { cwd: scratch.dir });
    try {
      await run.waitFor(/"event":"start"/);
      // Node 7 is node 4's child and node 1's grandchild: three documents change.
      await db.client.query("UPDATE node SET name = 'Node A_A_A*' WHERE id = 7");
      await converged();
      expect((await indexed()).get("1")).toMatchObject({ child: { grand_child: { name: "Node A_A_A*" } } });
      // Re-parent node 7 under node 5, then delete node 9 (a leaf): old and new ancestors follow.
      await db.client.query("UPDATE node SET node_id = 5 WHERE id = 7");
      await db.client.query("DELETE FROM node WHERE id = 9");
      await converged();
      const now = await indexed();
      expect(now.get("4")).toMatchObject({ child: null });
      expect(now.get("5")).toMatchObject({ child: { id: 7 } });
      expect(now.has("9")).toBe(false);
    } finally {
      run.child.kill("SIGTERM");
    }
    const result = await run.exited;
    expectNoSecret(result);
    expect(result.code).toBe(0);
  });
});
