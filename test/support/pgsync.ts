/**
 * PGSync itself, for the tests that compare with it or take over from it (and for the benchmark):
 * PGSync 7.3.0 installed from PyPI into a cached virtual environment, configured only with its own
 * documented environment variables, run against the local PostgreSQL, Redis and Elasticsearch.
 * None of its code is part of this repository.
 *
 * The local Elasticsearch is the integration-test distribution, which answers `GET /` with 405;
 * PGSync's client needs that endpoint, so PGSync talks to Elasticsearch through the proxy of
 * `http-proxy.ts`, which answers it.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type CountingProxy, startProxy } from "./http-proxy";
import { getServices } from "./services";

const run = promisify(execFile);

/** The PGSync release the compatibility tests are measured against. */
export const PGSYNC_VERSION = "7.3.0";

export interface Venv {
  dir: string;
  bin: string;
  python: string;
  /** Seconds spent creating the environment and installing into it (0 when it was ready). */
  installSeconds: number;
}

/**
 * A Python virtual environment at `dir` holding `requirements` (`name==version`), created and
 * filled with pip when something is missing. Kept between runs: it is the cache.
 */
export async function ensureVenv(
  dir: string,
  requirements: readonly string[],
  log: (line: string) => void = () => undefined,
): Promise<Venv> {
  const bin = join(dir, "bin");
  const python = join(bin, "python");
  const started = performance.now();
  if (existsSync(python)) {
    const { stdout } = await run(python, ["-m", "pip", "freeze"], { maxBuffer: 1 << 22 });
    const have = new Set(stdout.split("\n").map((l) => l.trim().toLowerCase()));
    if (requirements.every((w) => have.has(w.toLowerCase()))) return { dir, bin, python, installSeconds: 0 };
  } else {
    mkdirSync(join(dir, ".."), { recursive: true });
    log(`creating the Python virtual environment ${dir}`);
    await createVenv(dir, log);
  }
  log(`pip install ${requirements.join(" ")}`);
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...requirements], {
    maxBuffer: 1 << 24,
  });
  return { dir, bin, python, installSeconds: +((performance.now() - started) / 1000).toFixed(1) };
}

/**
 * `python3 -m venv`, installing Debian's python3-venv first when the module is missing (a fresh
 * Debian machine has python3 without it; this project's machines run as root).
 */
async function createVenv(dir: string, log: (line: string) => void): Promise<void> {
  try {
    await run("python3", ["-m", "venv", dir]);
    return;
  } catch (error) {
    if (process.getuid?.() !== 0) {
      throw new Error(`python3 -m venv failed: run sudo apt-get install -y python3-venv`, { cause: error });
    }
  }
  log("apt-get install python3-venv");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update", "-qq"], { env });
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "python3-venv"], { env });
  await rm(dir, { recursive: true, force: true });
  await run("python3", ["-m", "venv", dir]);
}

/** PGSync 7.3.0 in `~/.cache/slotsync/pgsync-7.3.0` (installed on first use, about a minute). */
export function ensurePgsync(log?: (line: string) => void): Promise<Venv> {
  return ensureVenv(
    join(homedir(), ".cache", "slotsync", `pgsync-${PGSYNC_VERSION}`),
    [`pgsync==${PGSYNC_VERSION}`],
    log,
  );
}

export interface PgSyncSetup {
  venv: Venv;
  /** Working directory: schema.json, checkpoint file, logs. No `.env` is read from elsewhere. */
  dir: string;
  database: string;
  index: string;
  pg: { host: string; port: number; user: string; password: string };
  /** Elasticsearch (through a proxy answering `GET /`). */
  es: { host: string; port: number; user: string; password: string };
  redis: { host: string; port: number; db: number };
}

/**
 * PGSync's documented settings (https://pgsync.com/env-vars), nothing else: what a PGSync user's
 * `.env` holds. The schema path is relative to the working directory.
 */
export function pgsyncSettings(s: Omit<PgSyncSetup, "venv" | "database" | "index">): Record<string, string> {
  return {
    PG_HOST: s.pg.host,
    PG_PORT: String(s.pg.port),
    PG_USER: s.pg.user,
    PG_PASSWORD: s.pg.password,
    ELASTICSEARCH_SCHEME: "http",
    ELASTICSEARCH_HOST: s.es.host,
    ELASTICSEARCH_PORT: String(s.es.port),
    ELASTICSEARCH_USER: s.es.user,
    ELASTICSEARCH_PASSWORD: s.es.password,
    REDIS_HOST: s.redis.host,
    REDIS_PORT: String(s.redis.port),
    REDIS_DB: String(s.redis.db),
    CHECKPOINT_PATH: s.dir,
    SCHEMA: "schema.json",
  };
}

/** The environment PGSync's programs run with: its settings, plus PATH and HOME. */
export function pgsyncEnv(s: PgSyncSetup): Record<string, string> {
  return {
    PATH: `${s.venv.bin}:${process.env.PATH ?? ""}`,
    HOME: process.env.HOME ?? "/tmp",
    ...pgsyncSettings(s),
  };
}

/** `.env` text for `settings` (values quoted, as dotenv reads them). */
export function dotenvText(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
    .join("");
}

/**
 * Held (with flock(1)) while a PGSync program runs. Both programs start by creating and dropping
 * a replication slot named `_tmp_` to check that they can; slot names are per cluster, so two
 * PGSync runs starting together on the shared PostgreSQL fail with "replication slot _tmp_
 * already exists". Test files run in parallel processes, hence a lock file, not a mutex.
 */
export const PGSYNC_LOCK = join(tmpdir(), "slotsync-pgsync-tmp-slot.lock");

/**
 * Runs one of PGSync's programs (`bootstrap`, `pgsync`) to its end with `--config schema.json`,
 * one PGSync program at a time on this machine (see `PGSYNC_LOCK`).
 */
export async function runPgsyncProgram(
  s: PgSyncSetup,
  program: "bootstrap" | "pgsync",
  args: readonly string[] = [],
): Promise<string> {
  try {
    const { stdout, stderr } = await run(
      "flock",
      [PGSYNC_LOCK, join(s.venv.bin, program), "--config", join(s.dir, "schema.json"), ...args],
      { cwd: s.dir, env: pgsyncEnv(s), maxBuffer: 1 << 24 },
    );
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`PGSync ${program} failed:\n${e.stderr ?? ""}${e.stdout ?? ""}`, { cause: error });
  }
}

/** A PGSync working setup on the test services, with its own proxy and working directory. */
export interface PgSyncHarness {
  setup: PgSyncSetup;
  proxy: CountingProxy;
  /** Writes `schema` (PGSync's schema.json) into the working directory. */
  writeSchema(schema: unknown): void;
  /** `bootstrap` (triggers, replication slot, `_view`), then one full sync (`pgsync` without `--daemon`). */
  bootstrapAndSync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Prepares PGSync for `database` and `index` on the test services (Redis database `redisDb`, so
 * concurrent suites do not share its queue).
 */
export async function pgsyncHarness(options: {
  database: string;
  index: string;
  redisDb: number;
}): Promise<PgSyncHarness> {
  const services = getServices();
  const es = services.elasticsearch;
  const venv = await ensurePgsync();
  const auth = `Basic ${Buffer.from(`${es.username}:${es.password}`).toString("base64")}`;
  const proxy = await startProxy(es.url, { elasticRoot: { auth } });
  const dir = await mkdtemp(join(tmpdir(), "slotsync-pgsync-"));
  const setup: PgSyncSetup = {
    venv,
    dir,
    database: options.database,
    index: options.index,
    pg: services.postgres,
    es: {
      host: "127.0.0.1",
      port: Number(new URL(proxy.url).port),
      user: es.username,
      password: es.password,
    },
    redis: { host: services.redis.host, port: services.redis.port, db: options.redisDb },
  };
  return {
    setup,
    proxy,
    writeSchema(schema) {
      writeFileSync(join(dir, "schema.json"), JSON.stringify(schema, null, 2));
    },
    async bootstrapAndSync() {
      await runPgsyncProgram(setup, "bootstrap");
      await runPgsyncProgram(setup, "pgsync");
    },
    async close() {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
