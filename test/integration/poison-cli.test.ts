import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage } from "../../lib/queue";
import { createSink, type SearchSink } from "../../lib/sink";
import { elasticsearchEnv, lines, logEvents, runCli, scratchDir, writeSchemaCopy } from "../support/cli";
import { createFixtureDatabase, schemaFixtureDir, type TestDatabase } from "../support/pg";
import { getServices } from "../support/services";

// A poison row in `slotsync bootstrap` and in `slotsync run`: the range holding it is failed with
// the reason (status shows it, the monitor alerts) and resumed after the fix; in `run` the key
// goes to the dead-letter file with its reason while every other key is written.

const id = randomBytes(4).toString("hex");
const slot = `poison_cli_${id}`;
const index = `poison_cli_${id}`;
let db: TestDatabase;
let scratch: Awaited<ReturnType<typeof scratchDir>>;
let sink: SearchSink;
let deadLetters: string;

function env(): Record<string, string> {
  return {
    PG_URL: db.url,
    DATABASE: db.name,
    SCHEMA: join(scratch.dir, "schema.json"),
    PLUGINS_DIR: join(schemaFixtureDir("poison"), "plugins"),
    SLOTSYNC_SLOT: slot,
    SLOTSYNC_STATE_DIR: join(scratch.dir, "state"),
    SLOTSYNC_DEAD_LETTER_FILE: deadLetters,
    POLL_INTERVAL_SECONDS: "0.1",
    ...elasticsearchEnv(),
  };
}

async function indexed(): Promise<Map<string, Record<string, unknown>>> {
  await sink.refresh(index);
  const out = new Map<string, Record<string, unknown>>();
  for await (const doc of sink.scan(index)) out.set(doc.id, doc.source);
  return out;
}

beforeAll(async () => {
  db = await createFixtureDatabase("poison");
  scratch = await scratchDir("poison-cli");
  deadLetters = join(scratch.dir, "dead", "letters.jsonl");
  await writeSchemaCopy(scratch.dir, "poison", () => index);
  const es = getServices().elasticsearch;
  sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
});

afterAll(async () => {
  const aliased = await sink?.getAliasTargets(index).catch(() => [] as string[]);
  for (const name of [index, ...(aliased ?? [])]) await sink?.deleteIndex(name).catch(() => undefined);
  await sink?.close();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
  await scratch?.remove();
});

describe("a poison row in a bootstrap range", () => {
  it("fails its range with the reason; status shows it and the monitor alerts; --resume copies it after the fix", async () => {
    await db.client.query("UPDATE item SET title = 'poison 77' WHERE id = 77");
    const first = await runCli(["bootstrap", "--range-rows", "50", "--quiet"], { env: env() });
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(
      /not finished \(\d+\/\d+ ranges done, 1 failed \(see slotsync status\)\); fix the cause, then run slotsync bootstrap --resume/,
    );

    const status = await runCli(["status"], { env: env() });
    expect(status.stdout).toMatch(
      /RANGE FAILED\s+\d{6}:\[[^\]]*\],[^ ]*\]: build-failed: range .*plugin "Poison" failed on document 77: cannot transform title "poison 77"/,
    );

    const monitor = await runCli(["check-wal", "--json", "--dry-run"], { env: env() });
    const report = JSON.parse(monitor.stdout) as {
      slots: { name: string; findings: { code: string; message: string }[] }[];
    };
    const findings = report.slots.find((s) => s.name === slot)?.findings ?? [];
    expect(findings).toContainEqual(
      expect.objectContaining({
        code: "bootstrap-failed",
        message: expect.stringMatching(/1 of \d+ ranges failed; range \d{6}:.*poison 77/),
      }),
    );
    expect(monitor.code).toBe(1);

    await db.client.query("UPDATE item SET title = 'item 77' WHERE id = 77");
    const resumed = await runCli(["bootstrap", "--resume", "--quiet"], { env: env() });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^${index}: serving "`));
    const docs = await indexed();
    expect(docs.size).toBe(200);
    expect(docs.get("77")).toEqual({ id: 77, title: "item 77" });
    const after = await runCli(["check-wal", "--json", "--dry-run"], { env: env() });
    const again = JSON.parse(after.stdout) as typeof report;
    expect(again.slots.find((s) => s.name === slot)?.findings.map((f) => f.code)).not.toContain(
      "bootstrap-failed",
    );
  });
});

describe("a poison key in slotsync run", () => {
  it("199 keys written, the bad one in the dead-letter file with its reason, and the run goes on", async () => {
    await db.client.query("UPDATE item SET title = CASE WHEN id = 42 THEN 'poison 42' ELSE 'v2 ' || id END");
    const r = await runCli(["run", "--once"], { env: env() });
    expect(r.stderr.split("\n").filter((l) => !l.startsWith("{"))).toEqual([""]);
    expect(r.code).toBe(0);
    const events = logEvents(r.stderr);
    expect(events.filter((e) => e.event === "dead-letter")).toHaveLength(1);
    expect(events.find((e) => e.event === "stop")).toBeDefined();

    const docs = await indexed();
    expect(docs.size).toBe(200);
    expect([...docs.values()].filter((d) => String(d.title).startsWith("v2 "))).toHaveLength(199);
    expect(docs.get("42")).toEqual({ id: 42, title: "item 42" });

    const written = lines(await readFile(deadLetters, "utf8")).map((l) => JSON.parse(l));
    expect(written).toHaveLength(1);
    expect(written[0].reason).toMatch(/^build-failed: .*plugin "Poison" failed on document 42/);
    expect(decodeMessage(written[0].body)).toMatchObject({ kind: "keys", index, keys: [["42"]] });
  });
});
