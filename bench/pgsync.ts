/**
 * PGSync, the reference the benchmark compares against: installed from PyPI into a virtual
 * environment under `.slotsync/bench/venv` (with matplotlib for the chart), configured only with
 * its own documented environment variables, pointed at the same PostgreSQL, Redis and
 * Elasticsearch as slotsync. None of its code is part of this repository.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Client as Elastic } from "@elastic/elasticsearch";
import type pg from "pg";
import { bookstoreSchema } from "./seed";

const run = promisify(execFile);

/** Pinned versions installed into the benchmark's virtual environment. */
export const PYTHON_PACKAGES = { pgsync: "7.3.0", matplotlib: "3.11.2" } as const;

export interface Venv {
  dir: string;
  bin: string;
  python: string;
  /** Seconds spent creating the environment and installing into it (0 when it was ready). */
  installSeconds: number;
}

/** Creates the virtual environment and installs the pinned packages, unless already there. */
export async function ensureVenv(root: string, log: (line: string) => void): Promise<Venv> {
  const dir = join(root, ".slotsync", "bench", "venv");
  const bin = join(dir, "bin");
  const python = join(bin, "python");
  const started = performance.now();
  const wanted = Object.entries(PYTHON_PACKAGES).map(([name, version]) => `${name}==${version}`);
  if (existsSync(python)) {
    const { stdout } = await run(python, ["-m", "pip", "freeze"], { maxBuffer: 1 << 22 });
    const have = new Set(stdout.split("\n").map((l) => l.trim().toLowerCase()));
    if (wanted.every((w) => have.has(w))) return { dir, bin, python, installSeconds: 0 };
  } else {
    await mkdir(join(root, ".slotsync", "bench"), { recursive: true });
    log("creating the Python virtual environment for PGSync and matplotlib");
    await run("python3", ["-m", "venv", dir]);
  }
  log(`pip install ${wanted.join(" ")}`);
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...wanted], {
    maxBuffer: 1 << 24,
  });
  return { dir, bin, python, installSeconds: +((performance.now() - started) / 1000).toFixed(1) };
}

export interface PgSyncSetup {
  venv: Venv;
  /** Working directory: schema.json, checkpoint file, logs. No `.env` is read from elsewhere. */
  dir: string;
  database: string;
  index: string;
  pg: { host: string; port: number; user: string; password: string };
  /** Elasticsearch (through the benchmark's proxy, see bench/http-proxy.ts). */
  es: { host: string; port: number; user: string; password: string };
  redis: { host: string; port: number; db: number };
}

/** PGSync's documented settings (https://pgsync.com/env-vars), nothing else. */
export function pgsyncEnv(s: PgSyncSetup): Record<string, string> {
  return {
    PATH: `${s.venv.bin}:${process.env.PATH ?? ""}`,
    HOME: process.env.HOME ?? "/tmp",
    PG_HOST: s.pg.host,
    PG_PORT: String(s.pg.port),
    PG_USER: s.pg.user,
    PG_PASSWORD: s.pg.password,
    PG_DATABASE: s.database,
    ELASTICSEARCH_SCHEME: "http",
    ELASTICSEARCH_HOST: s.es.host,
    ELASTICSEARCH_PORT: String(s.es.port),
    ELASTICSEARCH_USER: s.es.user,
    ELASTICSEARCH_PASSWORD: s.es.password,
    REDIS_HOST: s.redis.host,
    REDIS_PORT: String(s.redis.port),
    REDIS_DB: String(s.redis.db),
    CHECKPOINT_PATH: s.dir,
    SCHEMA: join(s.dir, "schema.json"),
  };
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
  await run(join(s.venv.bin, "bootstrap"), ["--config", join(s.dir, "schema.json")], {
    cwd: s.dir,
    env: pgsyncEnv(s),
    maxBuffer: 1 << 24,
  });
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
