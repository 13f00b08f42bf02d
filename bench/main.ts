/**
 * The benchmark suite: where slotsync stands against PGSync and the physical limits, measured in
 * one run on the same machine, reported as ratios.
 *
 *   npm run bench [-- --rows 1000000] [--steady-seconds 30] [--latency-seconds 60]
 *                 [--pgsync-bootstrap-seconds 60] [--pgsync-books 100000] [--poller-rows 1000000]
 *                 [--consumers 5] [--quick] [--out latest]
 *   npm run bench -- --only wide-rows [--wide-rows 5000] [--wide-row-bytes 50000]
 *   npm run bench -- --only fan-out [--fan-out-roots 3000000] [--poller-timeout 900]
 *   npm run bench -- --only huge-txn [--rows 10000000] [--poller-timeout 900]
 *   npm run bench -- --only slow-sink [--slow-documents 10000] [--slow-per-doc-ms 10] [--slow-cap-seconds 300]
 *   npm run bench -- --only bootstrap [--rows 1000000] [--repeat 1] [--look-ahead 1]
 *   npm run bench -- --only pgsync [--pgsync-books 100000] [--pgsync-tunings all|<name>,...] [--pgsync-variant <v>]
 *
 * Starts the services it needs (stops only those it started), installs PGSync and matplotlib into
 * `.slotsync/bench/venv`, then: seeds the bookstore; bootstraps it with slotsync, against the raw
 * bulk-indexing ceiling and against PGSync; searches the highest sustained change rate of
 * slotsync's pipeline (poller, SQS, consumers as processes) and of PGSync's daemon; measures
 * commit-to-searchable at 1,000 changes/s with the default schedule; the poller's peak RSS through a
 * 1,000,000-row transaction; and the cost model. Writes bench/results/latest.{json,md,png}.
 *
 * `--only wide-rows` runs only the poller's peak RSS through 5,000 updates of 50 KB rows under
 * REPLICA IDENTITY FULL (PostgreSQL and ElasticMQ only) and writes bench/results/wide-rows.json;
 * `--only fan-out` the poller's peak RSS through one lookup-row update that affects 3,000,000
 * documents (bench/results/fan-out.json); `--only huge-txn` one transaction of 10,000,000 updated
 * rows (`--rows`) through the poller (bench/results/huge-txn.json). Both run the poller as the stack
 * runs it: Lambda runs of the stack's run length and timeout (`--poller-timeout`, default 900 s),
 * each going on where the last stopped, and report the runs, time and peak RSS.
 *
 * `--only slow-sink` measures sync throughput against Elasticsearch slowed to 10 ms per document by
 * the fault proxy, adaptive bulk sizing against fixed sizing (bench/slow-sink.ts), and writes
 * bench/results/slow-sink.json.
 *
 * `--only bootstrap` seeds the bookstore and measures slotsync's bootstrap between two runs of the
 * raw bulk ceiling, as the full run does, and writes bench/results/bootstrap.json. `--repeat N`
 * measures it N times on the same seed (each bootstrap into a new slot and index), so a machine
 * whose load changes shows in the spread;
 * `--look-ahead 0,1` measures each pair once per consumer look-ahead (0: no overlap).
 *
 * `--only pgsync` measures PGSync's steady state alone (bench/pgsync-steady.ts): a completely
 * synced 100,000-book database, its daemon started normally, with and without the through-table
 * child, the tunings of PGSYNC_SWEEP_TUNINGS (or those named), and writes
 * bench/results/pgsync.{json,md} with slotsync's ratio to the figure of the last full run.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Client as Elastic } from "@elastic/elasticsearch";
import pg from "pg";
import { DEFAULT_SPLIT_OPTIONS } from "../lib/bootstrap";
import { type CountingProxy, startProxy } from "../test/support/http-proxy";
import { ensureServices, type ServiceName, stopServices } from "../tools/services";
import { BulkAcks } from "./acks";
import { benchBootstrap } from "./bootstrap";
import { costModel } from "./cost";
import { benchEconomy, ECONOMY_FIXED, type EconomyResult, economyMarkdown } from "./economy";
import {
  BENCH_PGSYNC_LOCK,
  BENCH_PGSYNC_REDIS_DB,
  benchPgsyncBootstrap,
  ensureBenchVenv,
  lockFile,
  type PgSyncSetup,
  stopProcess,
  writePgsyncSchema,
} from "./pgsync";
import { pgsyncRatios } from "./pgsync-report";
import { pgsyncSteadyStage, writePgsyncResult } from "./pgsync-stage";
import { PGSYNC_BENCH_TUNINGS, PGSYNC_SWEEP_TUNINGS } from "./pgsync-steady";
import { startPipeline } from "./pipeline";
import { benchLatency, benchSteady, pipelineEnvironment, STACK_CONSUMERS, settle } from "./pipeline-bench";
import {
  benchHugeTransaction,
  benchPollerFanOut,
  benchPollerMemory,
  benchPollerWideRows,
  STACK_POLLER_TIMEOUT_SECONDS,
  STACK_SCHEDULE_SECONDS,
} from "./poller";
import { type BenchResult, TARGETS, writeReport } from "./report";
import { createDatabase, databaseUrl, dropDatabase, seedBookstore } from "./seed";
import { benchSlowSink } from "./slow-sink";
import { runStep, type StepOptions, stepLine, summarise } from "./steady";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({
  options: {
    rows: { type: "string" },
    "steady-seconds": { type: "string" },
    "latency-seconds": { type: "string" },
    "pgsync-bootstrap-seconds": { type: "string" },
    "poller-rows": { type: "string" },
    consumers: { type: "string" },
    "pgsync-books": { type: "string" },
    "pgsync-tunings": { type: "string" },
    "pgsync-variant": { type: "string" },
    quick: { type: "boolean", default: false },
    out: { type: "string", default: "latest" },
    only: { type: "string" },
    "wide-rows": { type: "string", default: "5000" },
    "wide-row-bytes": { type: "string", default: "50000" },
    "fan-out-roots": { type: "string", default: "3000000" },
    "poller-timeout": { type: "string", default: String(STACK_POLLER_TIMEOUT_SECONDS) },
    "slow-documents": { type: "string", default: "10000" },
    "slow-per-doc-ms": { type: "string", default: "10" },
    "slow-cap-seconds": { type: "string", default: "300" },
    repeat: { type: "string", default: "1" },
    "look-ahead": { type: "string" },
    rates: { type: "string" },
    "latency-schedule-seconds": { type: "string" },
  },
});
const quick = args.quick === true;
const num = (v: string | undefined, normal: number, small: number) =>
  v ? Number(v) : quick ? small : normal;
const settings = {
  rows: num(args.rows, 1_000_000, 50_000),
  steadySeconds: num(args["steady-seconds"], 30, 15),
  latencySeconds: num(args["latency-seconds"], 60, 20),
  /**
   * The latency run's schedule period: the stack's, unless the window is too short to see three
   * hand-overs between scheduled runs in it; then the longest period that does.
   */
  latencyScheduleSeconds: 0,
  pgsyncBootstrapSeconds: num(args["pgsync-bootstrap-seconds"], 60, 30),
  pollerRows: num(args["poller-rows"], 1_000_000, 100_000),
  consumers: args.consumers ? Number(args.consumers) : STACK_CONSUMERS,
  pgsyncBooks: num(args["pgsync-books"], 100_000, 20_000),
  lagLimitSeconds: 10,
  maxSteps: 4,
  /** Time allowed to each pipeline's rate search. */
  searchBudgetSeconds: num(undefined, 150, 90),
};

settings.latencyScheduleSeconds = args["latency-schedule-seconds"]
  ? Number(args["latency-schedule-seconds"])
  : Math.max(5, Math.min(STACK_SCHEDULE_SECONDS, Math.floor(settings.latencySeconds / 3.5)));

/**
 * Root rows per range message (the stack's default), messages per consumer batch (the event
 * source mapping's default), and batches at once (two consumers).
 */
const BOOTSTRAP_SHAPE = { rangeRows: DEFAULT_SPLIT_OPTIONS.rangeRows, batch: 10, concurrency: 2 };

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;
const log = (line: string) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cleanups run on the way out, also when interrupted. */
const cleanups: (() => Promise<unknown>)[] = [];
let servicesStarted: ServiceName[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  if (servicesStarted.length > 0) await stopServices(servicesStarted.splice(0));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** `--only wide-rows|fan-out|huge-txn`: one of the poller's bounded-memory benchmarks, alone. */
async function boundsOnly(which: string): Promise<void> {
  const { endpoints, started } = await ensureServices(["postgres", "elasticmq"], (line) =>
    log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  try {
    let result: object;
    const timeout = Number(args["poller-timeout"]);
    if (which === "fan-out") {
      const roots = Number(args["fan-out-roots"]);
      log(`poller peak RSS, one lookup-row update fanning out to ${roots} roots, ${timeout} s runs...`);
      result = await benchPollerFanOut(
        ROOT,
        endpoints.postgres.url,
        endpoints.elasticmq.endpoint,
        roots,
        timeout,
      );
    } else if (which === "huge-txn") {
      const rows = args.rows ? Number(args.rows) : 10_000_000;
      log(`a ${rows}-row transaction through the poller, ${timeout} s runs...`);
      result = await benchHugeTransaction(
        ROOT,
        endpoints.postgres.url,
        endpoints.elasticmq.endpoint,
        rows,
        timeout,
      );
    } else {
      const rows = Number(args["wide-rows"]);
      const rowBytes = Number(args["wide-row-bytes"]);
      log(`poller peak RSS, ${rows} updates of ${rowBytes}-byte rows under REPLICA IDENTITY FULL...`);
      result = await benchPollerWideRows(
        ROOT,
        endpoints.postgres.url,
        endpoints.elasticmq.endpoint,
        rows,
        rowBytes,
      );
    }
    log(JSON.stringify(result));
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench", "results", `${which}.json`),
      `${JSON.stringify({ at: new Date().toISOString(), targetPeakRssMb: 256, ...result }, null, 2)}\n`,
    );
  } finally {
    await cleanUp();
  }
}

/** Writes bench/results/economy.{json,md}. */
function writeEconomy(result: EconomyResult): void {
  mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
  const file = join(ROOT, "bench", "results", "economy");
  writeFileSync(`${file}.json`, `${JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2)}\n`);
  writeFileSync(`${file}.md`, economyMarkdown(result));
  log("wrote bench/results/economy.{json,md}");
}

/** `--only economy`: idle runs and the first change after them, and the monthly cost per mode. */
async function economyOnly(): Promise<void> {
  const { started } = await ensureServices(
    ["postgres", "redis", "upstash", "elasticsearch", "elasticmq"],
    (line) => log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  try {
    writeEconomy(await benchEconomy(quick ? 10 : 30, ECONOMY_FIXED, log));
  } finally {
    await cleanUp();
  }
}

/** `--only slow-sink`: adaptive against fixed bulk sizing on an engine slowed per document. */
async function slowSinkOnly(): Promise<void> {
  const { endpoints, started } = await ensureServices(["postgres", "elasticsearch"], (line) =>
    log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  try {
    const result = await benchSlowSink({
      superUrl: endpoints.postgres.url,
      elasticsearch: endpoints.elasticsearch,
      documents: Number(args["slow-documents"]),
      perDocMs: Number(args["slow-per-doc-ms"]),
      capSeconds: Number(args["slow-cap-seconds"]),
      log,
    });
    log(
      `slow-sink: adaptive ${result.adaptive.documentsPerSecond} docs/s, fixed ${result.fixed.documentsPerSecond} docs/s, ratio ${result.ratio}`,
    );
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench", "results", "slow-sink.json"),
      `${JSON.stringify({ at: new Date().toISOString(), ...result }, null, 2)}\n`,
    );
  } finally {
    await cleanUp();
  }
}

type Stage = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/**
 * slotsync's pipeline stages: the steady-state rate search (the poller always polling; `--rates`
 * runs the listed rates instead), latency at 1,000 changes/s with the poller run as the deployed
 * latency mode runs it.
 */
async function slotsyncPipelineStages(
  stage: Stage,
  env: Record<string, string>,
  base: Omit<StepOptions, "rate">,
  suffix: string,
  proxies: { sqs: CountingProxy; upstash: CountingProxy },
) {
  const rates = args.rates?.split(",").map(Number);
  const slotsyncSteady = await stage("slotsync steady state", async () => {
    const pipeline = startPipeline(ROOT, env, { consumers: settings.consumers, mode: "continuous" });
    try {
      await settle(base); // cold starts
      proxies.upstash.reset();
      proxies.sqs.reset();
      await sleep(10_000);
      const idle = {
        upstashPerSecond: proxies.upstash.commands.value / 10,
        sqs: Object.fromEntries(proxies.sqs.counts),
      };
      const search = await benchSteady(
        pipeline,
        settings.consumers,
        base,
        {
          start: 1000,
          maxSteps: settings.maxSteps,
          minRate: 125,
          budgetSeconds: settings.searchBudgetSeconds,
          ...(rates ? { rates: rates.filter((r) => r > 0) } : {}),
        },
        log,
      );
      return { idle, search };
    } finally {
      await pipeline.stop();
    }
  });
  const period = settings.latencyScheduleSeconds;
  const latency = await stage(
    `slotsync latency at 1,000 changes/s, latency mode, a run every ${period} s`,
    () =>
      benchLatency(
        ROOT,
        env,
        base,
        {
          rate: 1000,
          seconds: settings.latencySeconds,
          scheduleSeconds: period,
          consumers: settings.consumers,
          tag: `l${suffix}`,
          acks: base.acks ?? new BulkAcks(),
        },
        proxies,
      ),
  );
  log(
    `slotsync latency: ${stepLine(latency.step)}; ${latency.handOvers.count} hand-overs (runs of ${latency.runSeconds} s every ${period} s), longest gap ${latency.handOvers.maxGapMs} ms`,
  );
  return { slotsyncSteady, latency };
}

/** What a batching window costs in latency: the same load with a 2 s window (fewer invocations). */
async function batchingWindowStage(
  stage: Stage,
  env: Record<string, string>,
  base: Omit<StepOptions, "rate">,
  suffix: string,
) {
  const window = await stage("slotsync latency with a 2 s batching window", async () => {
    const p = startPipeline(
      ROOT,
      { ...env, BENCH_BATCH_WINDOW_MS: "2000" },
      { consumers: settings.consumers, mode: "continuous" },
    );
    try {
      await settle(base);
      const { markers: _m, ...step } = await runStep({
        ...base,
        rate: 1000,
        seconds: settings.steadySeconds,
        markersPerSecond: 20,
        tag: `w${suffix}`,
      });
      return step;
    } finally {
      await p.stop();
    }
  });
  log(`with a 2 s batching window ${JSON.stringify(window.latency)}`);
  return window;
}

/**
 * `--only pipeline [--rows N] [--rates 8000,4000] [--latency-seconds N]`: seeds and bootstraps the
 * bookstore, then runs slotsync's pipeline stages alone (`--rates 0` skips the steady steps);
 * writes bench/results/pipeline.json.
 */
async function pipelineOnly(): Promise<void> {
  const { endpoints, started } = await ensureServices(
    ["postgres", "redis", "upstash", "elasticsearch", "elasticmq"],
    (line) => log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  const stage: Stage = async (name, fn) => {
    const s = performance.now();
    log(`${name}...`);
    try {
      return await fn();
    } finally {
      log(`${name} took ${((performance.now() - s) / 1000).toFixed(1)} s`);
    }
  };
  try {
    const rows = args.rows ? Number(args.rows) : 100_000;
    const es = endpoints.elasticsearch;
    const acks = new BulkAcks();
    const esProxy = await startProxy(es.url, { observe: acks });
    const sqsProxy = await startProxy(endpoints.elasticmq.endpoint);
    const upstashProxy = await startProxy(endpoints.upstash.url, { upstash: true });
    const elastic = new Elastic({
      node: esProxy.url,
      auth: { username: es.username, password: es.password },
    });
    cleanups.push(
      () => esProxy.close(),
      () => sqsProxy.close(),
      () => upstashProxy.close(),
      () => elastic.close(),
    );
    const suffix = randomBytes(3).toString("hex");
    const database = `bench_${suffix}`;
    const index = `bench_${suffix}`;
    const work = mkdtempSync(join(tmpdir(), "slotsync-bench-"));
    const url = databaseUrl(endpoints.postgres.url, database);
    cleanups.push(
      async () => rmSync(work, { recursive: true, force: true }),
      () => dropDatabase(endpoints.postgres.url, database),
      () => elastic.indices.delete({ index: `${index}*`, allow_no_indices: true }).catch(() => undefined),
    );
    const bootstrap = await stage(`seed ${rows} books and bootstrap`, async () => {
      await createDatabase(endpoints.postgres.url, database);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await seedBookstore(client, rows).finally(() => client.end());
      const sink = { engine: "elasticsearch" as const, node: esProxy.url };
      const auth = { type: "basic" as const, username: es.username, password: es.password };
      return benchBootstrap({
        ...{ url, database, index, slot: index, rows, ...BOOTSTRAP_SHAPE },
        sink: { ...sink, auth },
      });
    });
    // The engine's bulk ceiling now, to compare the steady state's documents/s with.
    log(
      `bulk ceiling ${bootstrap.ceiling.documentsPerSecond} docs/s, bootstrap ${bootstrap.bootstrap.documentsPerSecond} docs/s`,
    );
    const env = await pipelineEnvironment({
      ...{ root: ROOT, suffix, work, url, database, index, slot: index, endpoints },
      es: { url: esProxy.url, username: es.username, password: es.password },
      sqsProxy,
      upstashProxy,
      cleanups,
    });
    const base = {
      ...{ url, rows, es: elastic, index, seconds: settings.steadySeconds },
      lagLimitSeconds: settings.lagLimitSeconds,
      markersPerSecond: 10,
      tag: `s${suffix}`,
      acks,
    };
    const result = await slotsyncPipelineStages(stage, env, base, suffix, {
      sqs: sqsProxy,
      upstash: upstashProxy,
    });
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    const { counters, markers: _m, ...latency } = result.latency;
    writeFileSync(
      join(ROOT, "bench", "results", "pipeline.json"),
      `${JSON.stringify({ at: new Date().toISOString(), rows, settings, ceiling: bootstrap.ceiling, steady: result.slotsyncSteady, latency, leases: counters.leases }, null, 2)}\n`,
    );
    mkdirSync(join(ROOT, "bench", "results", "tmp"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench", "results", "tmp", "pipeline-markers.json"),
      JSON.stringify(result.latency.markers),
    );
    log("wrote bench/results/pipeline.json and tmp/pipeline-markers.json");
  } finally {
    await cleanUp();
  }
}

/** `--only bootstrap`: slotsync's bootstrap against the raw bulk ceiling, alone (see the file comment). */
async function bootstrapOnly(): Promise<void> {
  const { endpoints, started } = await ensureServices(["postgres", "elasticsearch"], (line) =>
    log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  try {
    const es = endpoints.elasticsearch;
    // The engine behind the same counting proxy as in the full run: both measurements pay its hop.
    const esProxy = await startProxy(es.url);
    cleanups.push(() => esProxy.close());
    const suffix = randomBytes(3).toString("hex");
    const superUrl = endpoints.postgres.url;
    const database = `bench_${suffix}`;
    const url = databaseUrl(superUrl, database);
    cleanups.push(() => dropDatabase(superUrl, database));
    const elastic = new Elastic({ node: es.url, auth: { username: es.username, password: es.password } });
    cleanups.push(() => elastic.close());
    cleanups.push(() =>
      elastic.indices.delete({ index: `bench_${suffix}*`, allow_no_indices: true }).catch(() => undefined),
    );
    const seedStarted = performance.now();
    await createDatabase(superUrl, database);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await seedBookstore(client, settings.rows).finally(() => client.end());
    log(`seeded ${settings.rows} books in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`);
    const runs: Awaited<ReturnType<typeof benchBootstrap>>[] = [];
    const lookAheads = args["look-ahead"]?.split(",").map(Number) ?? [undefined];
    const pairs = Math.max(1, Number(args.repeat)) * lookAheads.length;
    for (let i = 0; i < pairs; i++) {
      const name = `bench_${suffix}_${i}`;
      const lookAhead = lookAheads[i % lookAheads.length];
      const run = await benchBootstrap({
        ...(lookAhead === undefined ? {} : { lookAhead }),
        url,
        database,
        index: name,
        slot: name,
        rows: settings.rows,
        sink: {
          engine: "elasticsearch",
          node: esProxy.url,
          auth: { type: "basic", username: es.username, password: es.password },
        },
        ...BOOTSTRAP_SHAPE,
      });
      runs.push(run);
      const load = loadavg()
        .map((l) => l.toFixed(2))
        .join(" ");
      log(
        `run ${i + 1} (look-ahead ${run.lookAhead}): slotsync ${run.bootstrap.documentsPerSecond}/s, ceiling ${run.ceiling.documentsPerSecond}/s (${run.ceiling.before} before, ${run.ceiling.after} after), ratio ${run.ratio} (load ${load})`,
      );
      await elastic.indices.delete({ index: `${name}*`, allow_no_indices: true }).catch(() => undefined);
      await dropSlot(url, name);
    }
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(
      join(ROOT, "bench", "results", "bootstrap.json"),
      `${JSON.stringify({ at: new Date().toISOString(), rows: settings.rows, cpus: cpus().length, runs }, null, 2)}\n`,
    );
    log("wrote bench/results/bootstrap.json");
  } finally {
    await cleanUp();
  }
}

/** Drops the replication slot a bootstrap run created, so a repeat can create its own. */
async function dropSlot(url: string, slot: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
  } finally {
    await client.end();
  }
}

/** What both PGSync steady-state callers pass (bench/pgsync-stage.ts). */
function pgsyncStageBase(
  venv: Awaited<ReturnType<typeof ensureBenchVenv>>,
  endpoints: Awaited<ReturnType<typeof ensureServices>>["endpoints"],
  elastic: Elastic,
  esUrl: string,
  work: string,
) {
  return {
    ...{ venv, endpoints, elastic, esUrl, work, books: settings.pgsyncBooks },
    stepSeconds: settings.steadySeconds,
    lagLimitSeconds: settings.lagLimitSeconds,
    variant: args["pgsync-variant"],
    cleanups,
    log,
  };
}

/**
 * `--only pgsync`: PGSync's steady state alone, with PGSYNC_SWEEP_TUNINGS unless `--pgsync-tunings`
 * names some (or "all").
 */
async function pgsyncOnly(): Promise<void> {
  const { endpoints, started } = await ensureServices(["postgres", "redis", "elasticsearch"], (line) =>
    log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  try {
    const venv = await ensureBenchVenv(ROOT, log);
    const es = endpoints.elasticsearch;
    const basic = `Basic ${Buffer.from(`${es.username}:${es.password}`).toString("base64")}`;
    const esProxy = await startProxy(es.url, { elasticRoot: { auth: basic } });
    const elastic = new Elastic({
      node: esProxy.url,
      auth: { username: es.username, password: es.password },
    });
    const work = mkdtempSync(join(tmpdir(), "slotsync-bench-"));
    cleanups.push(
      () => esProxy.close(),
      () => elastic.close(),
      async () => rmSync(work, { recursive: true, force: true }),
    );
    const result = await pgsyncSteadyStage({
      ...pgsyncStageBase(venv, endpoints, elastic, esProxy.url, work),
      prefix: `bench_${randomBytes(3).toString("hex")}_pgs`,
      tunings: args["pgsync-tunings"] ?? PGSYNC_SWEEP_TUNINGS,
    });
    writePgsyncResult(ROOT, result, `npm run bench -- ${process.argv.slice(2).join(" ")}`);
    log("wrote bench/results/pgsync.{json,md}");
  } finally {
    await cleanUp();
  }
}

async function main(): Promise<void> {
  if (args.only === "economy") return economyOnly();
  if (args.only === "pgsync") return pgsyncOnly();
  if (args.only === "pipeline") return pipelineOnly();
  if (args.only === "bootstrap") return bootstrapOnly();
  if (args.only !== undefined) {
    if (args.only === "slow-sink") return slowSinkOnly();
    if (!["wide-rows", "fan-out", "huge-txn"].includes(args.only))
      throw new Error(
        `--only ${args.only}: choose pipeline, bootstrap, wide-rows, fan-out, huge-txn, economy, slow-sink or pgsync`,
      );
    return boundsOnly(args.only);
  }
  log(`settings ${JSON.stringify(settings)}`);
  const { endpoints, started } = await ensureServices(
    ["postgres", "redis", "upstash", "elasticsearch", "elasticmq"],
    (line) => log(`[services] ${line}`),
  );
  servicesStarted = [...started];
  const stages: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    log(`${name}...`);
    try {
      return await fn();
    } finally {
      stages[name] = +((performance.now() - s) / 1000).toFixed(1);
      log(`${name} took ${stages[name]} s`);
    }
  };
  try {
    const venv = await stage("install PGSync and matplotlib", () => ensureBenchVenv(ROOT, log));
    const es = endpoints.elasticsearch;
    const basic = `Basic ${Buffer.from(`${es.username}:${es.password}`).toString("base64")}`;
    const acks = new BulkAcks();
    const esProxy = await startProxy(es.url, { elasticRoot: { auth: basic }, observe: acks });
    const sqsProxy = await startProxy(endpoints.elasticmq.endpoint);
    const upstashProxy = await startProxy(endpoints.upstash.url, { upstash: true });
    cleanups.push(
      () => esProxy.close(),
      () => sqsProxy.close(),
      () => upstashProxy.close(),
    );
    const elastic = new Elastic({
      node: esProxy.url,
      auth: { username: es.username, password: es.password },
    });
    cleanups.push(() => elastic.close());

    const suffix = randomBytes(3).toString("hex");
    const superUrl = endpoints.postgres.url;
    const database = `bench_${suffix}`;
    const pgsyncDatabase = `bench_${suffix}_pgsync`;
    const index = `bench_${suffix}`;
    const pgsyncIndex = `bench_${suffix}_pgsync`;
    const slot = `bench_${suffix}`;
    const work = mkdtempSync(join(tmpdir(), "slotsync-bench-"));
    cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
    cleanups.push(
      () => dropDatabase(superUrl, database),
      () => dropDatabase(superUrl, pgsyncDatabase),
    );
    const url = databaseUrl(superUrl, database);

    await stage(`seed ${settings.rows} books`, async () => {
      await createDatabase(superUrl, database);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await seedBookstore(client, settings.rows).finally(() => client.end());
      // PGSync gets a file copy of the same data: its triggers and slot stay out of slotsync's way.
      await createDatabase(superUrl, pgsyncDatabase, database);
    });

    // 1. Bootstrap: slotsync and the ceiling, then PGSync.
    const sinkConfig = {
      engine: "elasticsearch" as const,
      node: esProxy.url,
      auth: { type: "basic" as const, username: es.username, password: es.password },
    };
    cleanups.push(() =>
      elastic.indices.delete({ index: `${index}*`, allow_no_indices: true }).catch(() => undefined),
    );
    const bootstrap = await stage("slotsync bootstrap and ceiling", () =>
      benchBootstrap({
        url,
        database,
        index,
        slot,
        rows: settings.rows,
        sink: sinkConfig,
        ...BOOTSTRAP_SHAPE,
      }),
    );
    log(
      `slotsync ${bootstrap.bootstrap.documentsPerSecond}/s, ceiling ${bootstrap.ceiling.documentsPerSecond}/s (${bootstrap.ceiling.before} before, ${bootstrap.ceiling.after} after)`,
    );

    const pgsync: PgSyncSetup = {
      venv,
      dir: join(work, "pgsync"),
      database: pgsyncDatabase,
      index: pgsyncIndex,
      pg: endpoints.postgres,
      es: {
        host: "127.0.0.1",
        port: Number(new URL(esProxy.url).port),
        user: es.username,
        password: es.password,
      },
      redis: { host: endpoints.redis.host, port: endpoints.redis.port, db: BENCH_PGSYNC_REDIS_DB },
    };
    await writePgsyncSchema(pgsync);
    const pgsyncBootstrap = await stage("PGSync bootstrap", async () => {
      const lock = await lockFile(BENCH_PGSYNC_LOCK, 900, log);
      try {
        return await benchPgsyncBootstrap(
          pgsync,
          elastic,
          settings.pgsyncBootstrapSeconds,
          (child) => cleanups.push(() => stopProcess(child)),
          lock,
        );
      } finally {
        lock.release();
      }
    });
    log(`PGSync ${pgsyncBootstrap.documentsPerSecond}/s (${pgsyncBootstrap.documents} documents)`);

    // 2 and 3. slotsync's pipeline: rate search (poller always on), then latency on the default schedule.
    const pipelineEnv = await pipelineEnvironment({
      root: ROOT,
      suffix,
      work,
      url,
      database,
      index,
      slot,
      endpoints,
      es: { url: esProxy.url, username: es.username, password: es.password },
      sqsProxy,
      upstashProxy,
      cleanups,
    });
    const base = {
      url,
      rows: settings.rows,
      es: elastic,
      index,
      seconds: settings.steadySeconds,
      lagLimitSeconds: settings.lagLimitSeconds,
      markersPerSecond: 10,
      tag: `s${suffix}`,
      acks,
    };
    const { slotsyncSteady, latency } = await slotsyncPipelineStages(stage, pipelineEnv, base, suffix, {
      sqs: sqsProxy,
      upstash: upstashProxy,
    });
    const withWindow = await batchingWindowStage(stage, pipelineEnv, base, suffix);

    // PGSync's daemon on the same load: with and without the through-table child.
    const tunings = args["pgsync-tunings"] ?? PGSYNC_BENCH_TUNINGS;
    const pgsyncSteady = await stage("PGSync steady state", () =>
      pgsyncSteadyStage({
        ...pgsyncStageBase(venv, endpoints, elastic, esProxy.url, work),
        prefix: `bench_${suffix}_pgs`,
        tunings,
      }),
    );

    // 4. Poller memory.
    const pollerMemory = await stage(`poller peak RSS, ${settings.pollerRows}-row transaction`, () =>
      benchPollerMemory(ROOT, superUrl, endpoints.elasticmq.endpoint, settings.pollerRows),
    );

    // 5. Economy mode: idle scheduled runs, the first change after them, the month per mode.
    const economy = await stage("economy mode: idle runs and the first change after them", () =>
      benchEconomy(quick ? 10 : 30, ECONOMY_FIXED, log),
    );
    writeEconomy(economy);

    // 6. Cost per million changes, from the latency run's counts (1,000 changes/s).
    const windowSeconds = latency.step.seconds;
    const cost = costModel({
      changes: latency.step.changes,
      consumerInvocations: latency.counters.consumerInvocations,
      consumerMs: latency.counters.consumerMs,
      sqsRequests: latency.sqsRequests,
      upstashCommands: Math.max(0, latency.upstash - slotsyncSteady.idle.upstashPerSecond * windowSeconds),
      pollerExtraMs: 0,
    });

    // PGSync's latency beside slotsync's: its highest kept-up step without the through-table child.
    const pgsyncLatency = pgsyncSteady.variants.find((v) => v.variant === "no-through-child")?.best.step;
    const continuous1000 = slotsyncSteady.search.steps.find((s) => s.targetRate === 1000);
    const result: BenchResult = {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
      machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
      settings,
      wallSeconds: +((performance.now() - t0) / 1000).toFixed(0),
      stages,
      targets: TARGETS,
      bootstrap: {
        rows: settings.rows,
        slotsync: bootstrap.bootstrap,
        ceiling: bootstrap.ceiling,
        pgsync: pgsyncBootstrap,
        details: bootstrap,
        ratioToCeiling: bootstrap.ratio,
        ratioToPgsync: +(
          bootstrap.bootstrap.documentsPerSecond / Math.max(1, pgsyncBootstrap.documentsPerSecond)
        ).toFixed(2),
      },
      steady: {
        slotsync: slotsyncSteady.search,
        pgsync: pgsyncSteady,
        ratios: pgsyncRatios(slotsyncSteady.search.sustained, pgsyncSteady),
        mix: "transactions of 10 book rows (60%), 10 review rows (38%) or 1 author row (2%; each author is on ~30 books), fewer rows per transaction below 1,000/s; markers (a title or review body) up to 10/s",
      },
      latency: {
        rate: 1000,
        scheduled: latency.step.latency,
        scheduledAcknowledged: latency.step.acknowledged ?? summarise([], "ackedAt"),
        schedule: {
          periodSeconds: latency.scheduleSeconds,
          runSeconds: latency.runSeconds,
          handOvers: latency.handOvers.count,
          maxGapMs: latency.handOvers.maxGapMs,
        },
        continuous: continuous1000?.latency ?? latency.step.latency,
        ...(pgsyncLatency ? { pgsync: pgsyncLatency.latency, pgsyncRate: pgsyncLatency.targetRate } : {}),
        step: latency.step,
        withBatchingWindow: withWindow.latency,
      },
      pollerMemory,
      economy,
      counts: {
        windowSeconds,
        changes: latency.step.changes,
        pipeline: latency.counters,
        sqs: latency.sqs,
        upstashCommands: latency.upstash,
        idle: slotsyncSteady.idle,
      },
      cost,
    };
    result.wallSeconds = +((performance.now() - t0) / 1000).toFixed(0);
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    await writeReport(ROOT, result, args.out ?? "latest", venv.python, log);
    log(`done in ${result.wallSeconds} s`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
