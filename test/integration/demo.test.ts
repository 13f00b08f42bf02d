import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSink } from "../../lib/sink";
import { getServices } from "../support/services";

const ROOT = join(import.meta.dirname, "..", "..");
const name = `demo_test_${randomBytes(4).toString("hex")}`;

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "demo.ts"), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString("utf8");
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

afterAll(async () => {
  // The demo leaves its database, slot and index for the user to explore; the test removes them.
  const services = getServices();
  const admin = new pg.Client({ connectionString: services.postgres.url });
  await admin.connect();
  try {
    await admin.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [name],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const es = services.elasticsearch;
  const sink = createSink({
    engine: "elasticsearch",
    node: es.url,
    auth: { type: "basic", username: es.username, password: es.password },
  });
  const index = name.replace(/_/g, "-");
  for (const concrete of await sink.getAliasTargets(index).catch(() => [] as string[])) {
    await sink.deleteIndex(concrete).catch(() => undefined);
  }
  await sink.close();
  await rm(join(ROOT, ".slotsync", "demo", name), { recursive: true, force: true });
});

describe("npm run demo", () => {
  it("bootstraps a generated bookstore and reports each change searchable with its latency", async () => {
    const r = await runDemo(["--books", "2000", "--exit", "--name", name]);
    expect(r.stderr).not.toMatch(/^demo:/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2,000 books, 400 authors, \d+ publishers, 6,000 reviews/);
    expect(r.stdout).toMatch(/ 2,000 documents searchable; copy rate [\d,]+ documents\/s/);
    expect(r.stdout).toMatch(/^ {3}insert a book \(.+\): searchable after \d+ ms$/m);
    expect(r.stdout).toMatch(/^ {3}rename an author \(.+, \d+ books\): searchable after \d+ ms$/m);
    expect(r.stdout).toMatch(/^ {3}delete a book \(.+\): searchable after \d+ ms \(gone from search\)$/m);
    expect(r.stdout).toMatch(/^Stopped the sync \(exit 0\)\.$/m);
  }, 300_000);
});
