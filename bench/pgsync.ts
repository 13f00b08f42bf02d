/**
 * PGSync, the reference the benchmark compares against: installed from PyPI into a virtual
 * environment under `.slotsync/bench/venv` (with matplotlib for the chart), configured only with
 * its own documented environment variables, pointed at the same PostgreSQL, Redis and
 * Elasticsearch as slotsync. None of its code is part of this repository.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { openSync, readdirSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Client as Elastic } from "@elastic/elasticsearch";
import type pg from "pg";
import {
  ensureVenv,
  PGSYNC_VERSION,
  type PgSyncSetup,
  pgsyncEnv,
  runPgsyncProgram,
  type Venv,
} from "../test/support/pgsync";
import { bookstoreSchema } from "./seed";

export type { PgSyncSetup } from "../test/support/pgsync";

/** Pinned versions installed into the benchmark's virtual environment. */
export const PYTHON_PACKAGES = { pgsync: PGSYNC_VERSION, matplotlib: "3.11.2" } as const;

/** Creates the benchmark's virtual environment (PGSync and matplotlib), unless already there. */
export function ensureBenchVenv(root: string, log: (line: string) => void): Promise<Venv> {
  const wanted = Object.entries(PYTHON_PACKAGES).map(([name, version]) => `${name}==${version}`);
  return ensureVenv(join(root, ".slotsync", "bench", "venv"), wanted, log);
}

/** Writes the bookstore schema (the same one slotsync reads) for PGSync. */
export async function writePgsyncSchema(s: PgSyncSetup): Promise<string> {
  await mkdir(s.dir, { recursive: true });
  const path = join(s.dir, "schema.json");
  writeFileSync(path, JSON.stringify(bookstoreSchema(s.database, s.index), null, 2));
  return path;
}

/** `bootstrap --config schema.json`: PGSync's one-time setup (triggers, replication slot). */
export async function pgsyncSetup(s: PgSyncSetup): Promise<number> {
  const started = performance.now();
  await runPgsyncProgram(s, "bootstrap");
  return (performance.now() - started) / 1000;
}

/** A PGSync process whose output goes to a log file in the working directory. */
export function startPgsync(s: PgSyncSetup, args: string[], logName: string): ChildProcess {
  const log = openSync(join(s.dir, logName), "a");
  return spawn(join(s.venv.bin, "pgsync"), ["--config", join(s.dir, "schema.json"), ...args], {
    cwd: s.dir,
    env: pgsyncEnv(s),
    stdio: ["ignore", log, log],
  });
}

/** Stops a PGSync process (SIGTERM, then SIGKILL after 5 s) and waits for it. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Writes PGSync's checkpoint (its file in CHECKPOINT_PATH: the transaction id it has synced up to)
 * as the current transaction, so a daemon started after a time-boxed initial sync does not start
 * the full copy again: it then syncs exactly the changes made from now on.
 */
export async function setPgsyncCheckpoint(s: PgSyncSetup, db: pg.ClientBase): Promise<void> {
  const { rows } = await db.query<{ txid: string }>("SELECT txid_current()::text AS txid");
  const existing = readdirSync(s.dir).filter((f) => f.startsWith(".") && f.includes(s.database));
  const name = existing[0] ?? `.${s.database}_${s.index.replace(/[^A-Za-z0-9_]/g, "")}`;
  writeFileSync(join(s.dir, name), String(rows[0]?.txid ?? "0"));
}

/**
 * PGSync's initial sync (`pgsync --config schema.json`, after its `bootstrap` setup), stopped after
 * the time box when it has not finished: the rate is the documents searchable when it was stopped
 * over the time it ran. PGSync writes in chunks as it goes, so the partial rate is its rate.
 */
export async function benchPgsyncBootstrap(
  setup: PgSyncSetup,
  elastic: Elastic,
  limitSeconds: number,
  onStart: (child: ChildProcess) => void,
) {
  const setupSeconds = await pgsyncSetup(setup);
  const started = performance.now();
  const child = startPgsync(setup, [], "bootstrap.log");
  onStart(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const limit = limitSeconds * 1000;
  const code = await Promise.race([exited, new Promise((r) => setTimeout(r, limit)).then(() => undefined)]);
  const seconds = (performance.now() - started) / 1000;
  const complete = code === 0;
  if (code === undefined) await stopProcess(child);
  else if (code !== 0) throw new Error(`PGSync's sync exited ${code}: see ${setup.dir}/bootstrap.log`);
  await elastic.indices.refresh({ index: setup.index });
  const { count } = await elastic.count({ index: setup.index });
  return {
    documents: count,
    seconds: +seconds.toFixed(1),
    documentsPerSecond: Math.round(count / seconds),
    complete,
    setupSeconds: +setupSeconds.toFixed(1),
    timeLimitSeconds: limitSeconds,
  };
}
