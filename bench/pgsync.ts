/**
 * PGSync, the reference the benchmark compares against: installed from PyPI into a virtual
 * environment under `.slotsync/bench/venv` (with matplotlib for the chart), configured only with
 * its own documented environment variables, pointed at the same PostgreSQL, Redis and
 * Elasticsearch as slotsync. None of its code is part of this repository.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client as Elastic } from "@elastic/elasticsearch";
import {
  ensureVenv,
  PGSYNC_LOCK,
  PGSYNC_VERSION,
  type PgSyncSetup,
  pgsyncEnv,
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

/** Writes `schema` (by default the bookstore schema, the same one slotsync reads) for PGSync. */
export async function writePgsyncSchema(
  s: PgSyncSetup,
  schema: unknown = bookstoreSchema(s.database, s.index),
): Promise<string> {
  await mkdir(s.dir, { recursive: true });
  const path = join(s.dir, "schema.json");
  writeFileSync(path, JSON.stringify(schema, null, 2));
  return path;
}

/**
 * The Redis database of the benchmark's PGSync queue (`queue:<database>_<index>`): one no other
 * part uses (slotsync's checkpoints, through the Upstash adapter, are in database 0; the
 * integration suites' PGSync queues in 0 and 7-15), so PGSync never touches anyone else's keys.
 */
export const BENCH_PGSYNC_REDIS_DB = 6;

/**
 * Held (flock(1)) by every PGSync process the benchmark starts: two benchmark runs never run
 * PGSync at once on this machine's PostgreSQL, Redis and CPUs.
 */
export const BENCH_PGSYNC_LOCK = join(tmpdir(), "slotsync-bench-pgsync.lock");

/** An exclusive lock on a file, held through an open file description (see `lockFile`). */
export interface FileLock {
  /** The descriptor: children given it (stdio slot 3) hold the lock for as long as they live. */
  fd: number;
  release(): void;
}

/**
 * Takes flock(1)'s exclusive lock on `path`, waiting at most `waitSeconds`. The lock belongs to
 * the open file description, so a child started with `fd` keeps it held even if this process
 * dies, and it is free once every holder has closed it.
 */
export async function lockFile(
  path: string,
  waitSeconds: number,
  log: (line: string) => void,
): Promise<FileLock> {
  const fd = openSync(path, "a");
  const waiting = setTimeout(() => log(`waiting for the lock ${path} (held by another run)`), 2000);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn("flock", ["-w", String(waitSeconds), "3"], {
      stdio: ["ignore", "ignore", "inherit", fd],
    });
    child.once("exit", resolve);
    child.once("error", () => resolve(-1));
  });
  clearTimeout(waiting);
  if (code !== 0) {
    closeSync(fd);
    throw new Error(
      `${path} stayed locked for ${waitSeconds} s: another run is using PGSync; run again when it ends (or remove the stale process holding it: fuser ${path})`,
    );
  }
  let open = true;
  return {
    fd,
    release() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * Runs one of PGSync's programs (`bootstrap`, `pgsync`) to its end with `--config schema.json`
 * and `env` added to its settings, holding `lock` and PGSync's start-up lock (`PGSYNC_LOCK`, shared
 * with the tests: PGSync checks it can create a replication slot named `_tmp_`). Returns its output.
 */
export async function runPgsync(
  s: PgSyncSetup,
  program: "bootstrap" | "pgsync",
  lock: FileLock,
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawn(
    "flock",
    [PGSYNC_LOCK, join(s.venv.bin, program), "--config", join(s.dir, "schema.json")],
    { cwd: s.dir, env: { ...pgsyncEnv(s), ...env }, stdio: ["ignore", "pipe", "pipe", lock.fd] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`PGSync ${program} exited ${code}:\n${output.slice(-4000)}`);
  return output;
}

/** `bootstrap --config schema.json`: PGSync's one-time setup (triggers, replication slot). */
export async function pgsyncSetup(s: PgSyncSetup, lock: FileLock): Promise<number> {
  const started = performance.now();
  await runPgsync(s, "bootstrap", lock);
  return (performance.now() - started) / 1000;
}

/**
 * A PGSync process whose output goes to a log file in the working directory, holding `lock` for
 * as long as it lives, with `env` added to its settings.
 */
export function startPgsync(
  s: PgSyncSetup,
  args: string[],
  logName: string,
  lock: FileLock,
  env: Record<string, string> = {},
): ChildProcess {
  const log = openSync(join(s.dir, logName), "a");
  const child = spawn(join(s.venv.bin, "pgsync"), ["--config", join(s.dir, "schema.json"), ...args], {
    cwd: s.dir,
    env: { ...pgsyncEnv(s), ...env },
    stdio: ["ignore", log, log, lock.fd],
  });
  closeSync(log);
  return child;
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
 * The lines of a PGSync log that report a failure: a Python traceback, or a record at level
 * ERROR or CRITICAL (its log format is `time:LEVEL:logger: message`).
 */
export function pgsyncLogProblems(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => /Traceback \(most recent call last\)|:(ERROR|CRITICAL):/.test(line));
}

/** PGSync's name for a sync (its replication slot, its checkpoint file and its Redis queue key). */
export function pgsyncName(database: string, index: string): string {
  return `${database.toLowerCase()}_${index}`.replace(/[^0-9a-zA-Z_]+/g, "");
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
  lock: FileLock,
) {
  const setupSeconds = await pgsyncSetup(setup, lock);
  // Its start-up creates and drops the `_tmp_` replication slot: held for the time box (see PGSYNC_LOCK).
  const startup = await lockFile(PGSYNC_LOCK, 300, () => undefined);
  const started = performance.now();
  const child = startPgsync(setup, [], "bootstrap.log", lock);
  onStart(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const limit = limitSeconds * 1000;
  const code = await Promise.race([
    exited,
    new Promise((r) => setTimeout(r, limit)).then(() => undefined),
  ]).finally(() => startup.release());
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
