/**
 * PGSync's steady state, measured the way its documentation runs it: a database PGSync has
 * completely synced (`bootstrap`, then `pgsync --config schema.json` to its end), then its daemon
 * (`pgsync --config schema.json --daemon`) started normally, its Redis queue never flushed, its log
 * checked for errors after every step. A rate ladder suited to the schema drives the same mixed
 * load and the same "kept up" rule as slotsync's steady state (bench/steady.ts); the ladder ends at
 * the first step that falls behind, after which the daemon is given time to drain its backlog.
 * Each tuning restarts the daemon with PGSync's documented settings changed (the queue, checkpoint
 * and index carry over, as they would for a user restarting it).
 *
 * Two schema variants: the bookstore (book with publisher, authors through `book_author`, reviews)
 * and the same without the through-table child. PGSync's query for a through-table child groups
 * `book_author` by book before joining it to the batch's roots, which PostgreSQL can run for one
 * root through the index but, for a batch of several roots, does over the whole table; the query
 * times per batch size (bench/pgsync_query.py) show it.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Client as Elastic } from "@elastic/elasticsearch";
import { Redis } from "ioredis";
import pg from "pg";
import { PGSYNC_LOCK, PGSYNC_VERSION, pgsyncEnv, type Venv } from "../test/support/pgsync";
import {
  type FileLock,
  lockFile,
  type PgSyncSetup,
  pgsyncLogProblems,
  pgsyncName,
  runPgsync,
  startPgsync,
  stopProcess,
  writePgsyncSchema,
} from "./pgsync";
import { bookstoreSchema, createDatabase, databaseUrl, seedBookstore } from "./seed";
import { runStep, type StepResult } from "./steady";

/** The two schemas PGSync is measured with. */
export const PGSYNC_VARIANTS = ["through-child", "no-through-child"] as const;
export type PgsyncVariant = (typeof PGSYNC_VARIANTS)[number];

/** A set of PGSync's documented settings (https://pgsync.com/env-vars, its settings.py). */
export interface PgsyncTuning {
  name: string;
  env: Record<string, string>;
  /** What PGSync's documentation or source says the settings do. */
  why: string;
}

/** Shorter waits: PGSync's producer pushes to Redis after REDIS_WRITE_CHUNK_SIZE notifications or a quiet POLL_TIMEOUT. */
const LATENCY = { POLL_TIMEOUT: "0.01", REDIS_POLL_INTERVAL: "0.001", REDIS_WRITE_CHUNK_SIZE: "10" };

/** The tunings tried, each on top of PGSync 7.3.0's defaults (settings.py of the installed release). */
export const PGSYNC_TUNINGS: Record<string, PgsyncTuning> = {
  defaults: { name: "defaults", env: {}, why: "PGSync 7.3.0's defaults" },
  latency: {
    name: "latency",
    env: LATENCY,
    why: "under a steady stream of notifications the producer only pushes to Redis every REDIS_WRITE_CHUNK_SIZE (500) of them, since POLL_TIMEOUT (0.1 s) never passes quietly; settings.py: reduce POLL_TIMEOUT to increase throughput",
  },
  "streaming-bulk": {
    name: "streaming-bulk",
    env: { ...LATENCY, ELASTICSEARCH_STREAMING_BULK: "true" },
    why: "the above, and the streaming bulk helper instead of a thread pool (ELASTICSEARCH_THREAD_COUNT) per bulk call",
  },
  workers: {
    name: "workers",
    env: { ...LATENCY, ELASTICSEARCH_STREAMING_BULK: "true", NUM_WORKERS: "4", PG_WORK_MEM: "64MB" },
    why: "the above, four Redis consumer threads instead of two, and work_mem for the sync query's sorts and aggregates",
  },
  "small-batches": {
    name: "small-batches",
    env: { ...LATENCY, ELASTICSEARCH_STREAMING_BULK: "true", NUM_WORKERS: "4", REDIS_READ_CHUNK_SIZE: "1" },
    why: "the above with one queued change per batch (REDIS_READ_CHUNK_SIZE), so each sync query filters on one root",
  },
};

export interface PgsyncVariantPlan {
  variant: PgsyncVariant;
  /** Rates (changes/s) tried in order; the ladder ends at the first step that falls behind. */
  ladder: number[];
  tunings: PgsyncTuning[];
}

/**
 * Rate ladders suited to each schema: PGSync with the through-table child keeps up with tens of
 * changes a second at most, without it with hundreds.
 */
export const PGSYNC_LADDERS: Record<PgsyncVariant, number[]> = {
  "through-child": [2, 5, 10, 15, 20, 25, 30, 40, 60, 80, 120, 160],
  "no-through-child": [25, 50, 100, 200, 400, 800, 1600, 3200],
};

/**
 * The tuning the full benchmark runs per variant: the best `--only pgsync` found
 * (docs/project/benchmarks.md, "PGSync comparison"), to keep its PGSync part near ten minutes.
 */
export const PGSYNC_BENCH_TUNINGS: Record<PgsyncVariant, string[]> = {
  "through-child": ["small-batches"],
  "no-through-child": ["latency"],
};

/**
 * The tunings `--only pgsync` tries per variant by default (each restart costs the daemon's
 * catch-up): the defaults, the shorter waits, and what can lift that variant's bottleneck.
 */
export const PGSYNC_SWEEP_TUNINGS: Record<PgsyncVariant, string[]> = {
  "through-child": ["defaults", "latency", "small-batches"],
  "no-through-child": ["defaults", "latency", "streaming-bulk"],
};

/** Plans for both variants: `tunings` names per variant (all of `PGSYNC_TUNINGS` when "all"). */
export function pgsyncPlans(
  tunings: Record<PgsyncVariant, string[]> | "all",
  variants: readonly PgsyncVariant[] = PGSYNC_VARIANTS,
): PgsyncVariantPlan[] {
  return variants.map((variant) => ({
    variant,
    ladder: PGSYNC_LADDERS[variant],
    tunings: (tunings === "all" ? Object.keys(PGSYNC_TUNINGS) : tunings[variant]).map((name) => {
      const tuning = PGSYNC_TUNINGS[name];
      if (!tuning)
        throw new Error(`PGSync tuning ${name}: choose one of ${Object.keys(PGSYNC_TUNINGS).join(", ")}`);
      return tuning;
    }),
  }));
}

export interface PgsyncRun {
  tuning: string;
  env: Record<string, string>;
  why: string;
  /** Seconds from the daemon's start until a new change was searchable (its catch-up included). */
  startSeconds: number;
  steps: StepResult[];
  /** The highest rate kept up (0 when none). */
  sustained: number;
  /** True when the ladder's top rate was kept up: PGSync's limit is higher. */
  lowerBound: boolean;
  /**
   * After the step that fell behind: the changes still queued in Redis when the step ended, and the
   * seconds from the end of its load until the queue was empty and a new change searchable.
   */
  drain?: { seconds: number; drained: boolean; queued: number };
}

export interface QueryTime {
  seconds: number;
  throughRows: number;
}

export interface PgsyncVariantResult {
  variant: PgsyncVariant;
  schema: string;
  books: number;
  database: string;
  initialSync: { seconds: number; documents: number };
  /**
   * PGSync's document query for a batch of N roots (the key is N): median seconds, and the rows
   * PostgreSQL read from the through table for it (bench/pgsync_query.py).
   */
  queryByBatch: Record<string, QueryTime>;
  runs: PgsyncRun[];
  /** The run with the highest kept-up rate (the first one on a tie). */
  best: { tuning: string; sustained: number; lowerBound: boolean; step?: StepResult };
}

export interface PgsyncSteadyResult {
  version: string;
  books: number;
  stepSeconds: number;
  lagLimitSeconds: number;
  redisDb: number;
  /** 1, 5 and 15-minute load averages (the machine is shared: the figures move with them). */
  loadAverage: { atStart: number[]; atEnd: number[] };
  variants: PgsyncVariantResult[];
}

export interface PgsyncSteadyOptions {
  venv: Venv;
  superUrl: string;
  pg: PgSyncSetup["pg"];
  es: PgSyncSetup["es"];
  redis: PgSyncSetup["redis"];
  elastic: Elastic;
  lock: FileLock;
  /** Working directory; one subdirectory per variant. */
  dir: string;
  /** Database and index name prefix (unique to the run). */
  prefix: string;
  books: number;
  plans: PgsyncVariantPlan[];
  stepSeconds: number;
  lagLimitSeconds: number;
  /** Longest wait for PGSync's backlog after a step it fell behind on. */
  drainCapSeconds: number;
  /** Called with each database created, so the caller drops it on the way out. */
  onDatabase: (database: string) => void;
  /** Registers a cleanup the caller runs on the way out. */
  onCleanup: (cleanup: () => Promise<unknown>) => void;
  log: (line: string) => void;
}

const SCHEMAS: Record<PgsyncVariant, string> = {
  "through-child":
    "book → publisher (one-to-one), authors (one-to-many through book_author), reviews (one-to-many)",
  "no-through-child": "book → publisher (one-to-one), reviews (one-to-many); the authors child removed",
};

/** The bookstore schema, or the same without its through-table child. */
export function pgsyncSchema(variant: PgsyncVariant, database: string, index: string) {
  const schema = bookstoreSchema(database, index);
  if (variant === "no-through-child")
    for (const doc of schema)
      doc.nodes.children = doc.nodes.children.filter((c) => !("through_tables" in c.relationship));
  return schema;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The longest wait for a (re)started daemon to sync a new change. */
const START_CAP_SECONDS = 180;

/** Measures every planned variant; databases are seeded once and copied. */
export async function benchPgsyncSteady(o: PgsyncSteadyOptions): Promise<PgsyncSteadyResult> {
  const load = () => loadavg().map((v) => +v.toFixed(2));
  const atStart = load();
  const seedDb = `${o.prefix}_seed`;
  await createDatabase(o.superUrl, seedDb);
  o.onDatabase(seedDb);
  const client = new pg.Client({ connectionString: databaseUrl(o.superUrl, seedDb) });
  await client.connect();
  await seedBookstore(client, o.books).finally(() => client.end());
  const redis = new Redis({ host: o.redis.host, port: o.redis.port, db: o.redis.db, lazyConnect: true });
  await redis.connect();
  // Registered first, so it runs after the cleanups that delete this run's queue keys.
  o.onCleanup(async () => redis.disconnect());
  const variants: PgsyncVariantResult[] = [];
  for (const plan of o.plans) variants.push(await benchVariant(o, plan, seedDb, redis));
  return {
    version: PGSYNC_VERSION,
    books: o.books,
    stepSeconds: o.stepSeconds,
    lagLimitSeconds: o.lagLimitSeconds,
    redisDb: o.redis.db,
    loadAverage: { atStart, atEnd: load() },
    variants,
  };
}

async function benchVariant(
  o: PgsyncSteadyOptions,
  plan: PgsyncVariantPlan,
  seedDb: string,
  redis: Redis,
): Promise<PgsyncVariantResult> {
  const short = plan.variant === "through-child" ? "with" : "without";
  const database = `${o.prefix}_${short}`;
  const index = database;
  await createDatabase(o.superUrl, database, seedDb);
  o.onDatabase(database);
  const setup: PgSyncSetup = {
    venv: o.venv,
    dir: join(o.dir, short),
    database,
    index,
    pg: o.pg,
    es: o.es,
    redis: o.redis,
  };
  await writePgsyncSchema(setup, pgsyncSchema(plan.variant, database, index));
  const queueKey = `queue:${pgsyncName(database, index)}`;

  // The complete initial sync, as PGSync's documentation runs it: bootstrap, then pgsync.
  o.log(`PGSync ${plan.variant}: bootstrap and initial sync of ${o.books} books`);
  const started = performance.now();
  await runPgsync(setup, "bootstrap", o.lock);
  const syncOutput = await runPgsync(setup, "pgsync", o.lock);
  const initialSeconds = (performance.now() - started) / 1000;
  const problems = pgsyncLogProblems(syncOutput);
  if (problems.length > 0) throw new Error(`PGSync's initial sync logged errors:\n${problems.join("\n")}`);
  await o.elastic.indices.refresh({ index });
  const { count } = await o.elastic.count({ index });
  if (count !== o.books)
    throw new Error(`PGSync's initial sync left ${count} documents in ${index}, expected ${o.books}`);
  o.log(`PGSync ${plan.variant}: ${count} documents in ${initialSeconds.toFixed(1)} s`);

  const queryByBatch = await timeQueries(setup, o.books);
  o.log(`PGSync ${plan.variant}: document query by batch size ${JSON.stringify(queryByBatch)}`);

  const url = databaseUrl(o.superUrl, database);
  const base = {
    url,
    rows: o.books,
    es: o.elastic,
    index,
    seconds: o.stepSeconds,
    lagLimitSeconds: o.lagLimitSeconds,
    markersPerSecond: 10,
  };
  /** A fresh marker through the daemon, waiting at most `seconds`. */
  const probe = async (seconds: number) =>
    runStep({
      ...base,
      rate: 2,
      seconds: 1,
      lagLimitSeconds: seconds / 3,
      tag: `${short}p${Date.now() % 1e6}`,
    });

  const runs: PgsyncRun[] = [];
  // This run's own keys only, also when a step fails (never FLUSHDB: the database may hold another
  // run's queue).
  o.onCleanup(() => redis.del(queueKey, `${queueKey}:meta`));
  for (const tuning of plan.tunings) {
    const logName = `daemon-${tuning.name}.log`;
    // PGSync's start-up creates and drops a replication slot named `_tmp_` (per cluster): hold the
    // lock the tests take around it until the daemon has synced a first change.
    const startup = await lockFile(PGSYNC_LOCK, 300, o.log);
    const daemon = startPgsync(setup, ["--daemon"], logName, o.lock, tuning.env);
    const checkLog = () => {
      const text = readFileSync(join(setup.dir, logName), "utf8");
      const found = pgsyncLogProblems(text);
      if (found.length > 0 || daemon.exitCode !== null || daemon.signalCode !== null)
        throw new Error(
          `PGSync's daemon (${plan.variant}, ${tuning.name}) ${daemon.exitCode !== null ? `exited ${daemon.exitCode}` : "logged errors"}; ${join(setup.dir, logName)} ends:\n${text.slice(-3000)}`,
        );
    };
    try {
      // On start the daemon first catches up from its checkpoint (a pass over the rows changed since,
      // then its replication slot), which takes PGSync minutes after a ladder with the child.
      const startedAt = Date.now();
      const ready = await probe(START_CAP_SECONDS).finally(() => startup.release());
      checkLog();
      if (ready.unseen > 0)
        throw new Error(
          `PGSync's daemon (${plan.variant}, ${tuning.name}) synced no new change within ${START_CAP_SECONDS} s of its start; see ${join(setup.dir, logName)}`,
        );
      const startSeconds = +((Date.now() - startedAt) / 1000).toFixed(1);
      o.log(
        `  PGSync ${plan.variant} ${tuning.name}: daemon started, a new change searchable after ${startSeconds} s`,
      );
      const run: PgsyncRun = {
        ...tuning,
        tuning: tuning.name,
        startSeconds,
        steps: [],
        sustained: 0,
        lowerBound: false,
      };
      for (const rate of plan.ladder) {
        const { markers: _m, ...step } = await runStep({
          ...base,
          rate,
          tag: `${short}${tuning.name}${rate}`,
        });
        checkLog();
        run.steps.push(step);
        o.log(
          `  PGSync ${plan.variant} ${tuning.name} ${rate}/s: achieved ${step.achievedRate}/s, lag p50 ${step.latency.p50} s p99 ${step.latency.p99} s, late p95 ${step.lateP95} s, drain ${step.drainSeconds} s, unseen ${step.unseen} -> ${step.keptUp ? "kept up" : "fell behind"}`,
        );
        if (step.keptUp) continue;
        run.drain = await drain(redis, queueKey, o.drainCapSeconds, probe, step.drainSeconds);
        checkLog();
        o.log(`  PGSync ${plan.variant} ${tuning.name}: backlog ${JSON.stringify(run.drain)}`);
        break;
      }
      const kept = run.steps.filter((s) => s.keptUp).map((s) => s.targetRate);
      run.sustained = kept.length > 0 ? Math.max(...kept) : 0;
      run.lowerBound = run.steps.every((s) => s.keptUp);
      runs.push(run);
      // A backlog the cap did not clear would be the next tuning's first load: stop here.
      if (run.drain && !run.drain.drained) break;
    } finally {
      startup.release();
      await stopProcess(daemon);
    }
  }

  const best = runs.reduce<PgsyncRun | undefined>(
    (a, r) => (!a || r.sustained > a.sustained ? r : a),
    undefined,
  );
  return {
    variant: plan.variant,
    schema: SCHEMAS[plan.variant],
    books: o.books,
    database,
    initialSync: { seconds: +initialSeconds.toFixed(1), documents: count },
    queryByBatch,
    runs,
    best: {
      tuning: best?.tuning ?? "none",
      sustained: best?.sustained ?? 0,
      lowerBound: best?.lowerBound ?? false,
      step: best?.steps.find((s) => s.targetRate === best.sustained),
    },
  };
}

/**
 * Waits for PGSync's backlog after a step it fell behind on: its Redis queue empty, then a new
 * marker searchable, within `capSeconds` (the queue alone does not tell: a consumer thread may hold
 * a batch of up to REDIS_READ_CHUNK_SIZE changes it popped). Returns the seconds since the load
 * ended, `waited` of which the step itself spent waiting for its markers.
 */
async function drain(
  redis: Redis,
  queueKey: string,
  capSeconds: number,
  probe: (seconds: number) => Promise<StepResult>,
  waited: number,
): Promise<NonNullable<PgsyncRun["drain"]>> {
  const started = Date.now();
  const deadline = started + capSeconds * 1000;
  const queued = await redis.llen(queueKey);
  while ((await redis.llen(queueKey)) > 0 && Date.now() < deadline) await sleep(250);
  const left = Math.max(3, (deadline - Date.now()) / 1000);
  const fresh = await probe(left);
  const seconds = +(waited + (Date.now() - started) / 1000).toFixed(1);
  return { seconds, drained: fresh.unseen === 0, queued };
}

/** PGSync's document query timed for batches of 1, 2, 10 and 100 roots (bench/pgsync_query.py). */
async function timeQueries(setup: PgSyncSetup, books: number): Promise<Record<string, QueryTime>> {
  const script = fileURLToPath(new URL("pgsync_query.py", import.meta.url));
  const { stdout } = await promisify(execFile)(
    setup.venv.python,
    [script, String(books), "1", "2", "10", "100"],
    {
      cwd: setup.dir,
      env: pgsyncEnv(setup),
      maxBuffer: 1 << 22,
    },
  );
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as Record<string, QueryTime>;
}
