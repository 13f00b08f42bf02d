/**
 * slotsync's pipeline in the benchmark (bench/main.ts): the Lambdas' configuration as the stack
 * deploys it, the steady-state rate search with the poller always polling, and commit-to-searchable
 * and commit-to-acknowledged latency with the poller run as the deployed latency mode runs it.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pollerRunSecondsForRate } from "../infra/functions";
import { DEFAULT_CONSUMER } from "../infra/props";
import type { CountingProxy } from "../test/support/http-proxy";
import { createTestQueues } from "../test/support/sqs";
import type { ServiceEndpoints } from "../tools/services";
import type { BulkAcks } from "./acks";
import { budgetLine, CpuSampler } from "./cpu";
import type { Marker } from "./load";
import {
  batchProfile,
  type HandOvers,
  handOvers,
  type Pipeline,
  type PipelineCounters,
  startPipeline,
} from "./pipeline";
import { STACK_POLLER_TIMEOUT_SECONDS, STACK_SCHEDULE_SECONDS } from "./poller";
import { bookstoreSchema } from "./seed";
import {
  runStep,
  type SearchResult,
  type StepOptions,
  type StepResult,
  searchRate,
  stepLine,
} from "./steady";

/**
 * The poller's and consumers' settings as the default deployment has them, for a schedule period
 * of `scheduleSeconds` (the stack's unless a shorter one is asked for, to see more hand-overs in a
 * short window): the latency mode, runs of the period plus the overlap, the stack's timeout, the
 * event source mapping's batch size and window.
 */
export function stackEnvironment(scheduleSeconds = STACK_SCHEDULE_SECONDS): Record<string, string> {
  const runSeconds = pollerRunSecondsForRate(scheduleSeconds, STACK_POLLER_TIMEOUT_SECONDS);
  return {
    POLLER_MODE: "latency",
    POLLER_RUN_SECONDS: String(runSeconds),
    BENCH_SCHEDULE_MS: String(scheduleSeconds * 1000),
    BENCH_INVOCATION_MS: String(STACK_POLLER_TIMEOUT_SECONDS * 1000),
    BENCH_BATCH_SIZE: String(DEFAULT_CONSUMER.batchSize),
    BENCH_BATCH_WINDOW_MS: String(DEFAULT_CONSUMER.maxBatchingWindow.toMilliseconds()),
    BENCH_CONSUMER_TIMEOUT_MS: String(DEFAULT_CONSUMER.timeout.toMilliseconds()),
  };
}

/** The consumers' concurrency of the default deployment (the event source mapping's maximum). */
export const STACK_CONSUMERS = DEFAULT_CONSUMER.maxConcurrency;

export interface SyncPipelineSetup {
  root: string;
  suffix: string;
  /** Where the schema file is written. */
  work: string;
  url: string;
  database: string;
  index: string;
  slot: string;
  endpoints: ServiceEndpoints;
  es: { url: string; username: string; password: string };
  sqsProxy: CountingProxy;
  upstashProxy: CountingProxy;
  cleanups: (() => Promise<unknown>)[];
}

/** The Lambdas' environment for the benchmark's database, index, queues and proxies. */
export async function pipelineEnvironment(s: SyncPipelineSetup): Promise<Record<string, string>> {
  const queues = await createTestQueues(`bench-${s.suffix}`);
  s.cleanups.push(() => queues.remove());
  const schemaFile = join(s.work, "schema.json");
  writeFileSync(schemaFile, JSON.stringify(bookstoreSchema(s.database, s.index)));
  return {
    PG_URL: s.url,
    SCHEMA: schemaFile,
    SLOTSYNC_SLOT: s.slot,
    ELASTICSEARCH_URL: s.es.url,
    ELASTICSEARCH_USER: s.es.username,
    ELASTICSEARCH_PASSWORD: s.es.password,
    UPSTASH_REDIS_REST_URL: s.upstashProxy.url,
    UPSTASH_REDIS_REST_TOKEN: s.endpoints.upstash.token,
    SQS_QUEUE_URL: queues.queueUrl,
    SQS_DLQ_URL: queues.dlqUrl,
    SQS_ENDPOINT: s.sqsProxy.url,
    AWS_REGION: s.endpoints.elasticmq.region,
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...stackEnvironment(),
  };
}

/** Waits until a fresh marker is searchable: the pipeline is warm and any backlog is gone. */
export async function settle(base: Omit<StepOptions, "rate">, step?: StepResult): Promise<void> {
  if (step?.keptUp) return;
  await runStep({
    ...base,
    rate: 2,
    seconds: 1,
    lagLimitSeconds: 60,
    tag: `settle${randomBytes(2).toString("hex")}`,
  });
}

/** Seconds of the same load before the latency window (not measured). */
export const LATENCY_WARM_UP_SECONDS = 10;

export interface LatencyRun {
  step: StepResult;
  /** The step's markers (commit, acknowledged and searchable times). */
  markers: Marker[];
  /** The schedule period the poller ran with, in seconds. */
  scheduleSeconds: number;
  /** The poller's run length (`POLLER_RUN_SECONDS`) with that period. */
  runSeconds: number;
  /** Lease hand-overs between scheduled runs inside the measured window. */
  handOvers: HandOvers;
  counters: PipelineCounters;
  sqsRequests: number;
  sqs: Record<string, number>;
  upstash: number;
}

/**
 * Latency at `rate` with the poller run as the deployed latency mode runs it: a tick every
 * `scheduleSeconds` starts a run concurrently with the one still finishing, which hands the lease
 * over. Starts its own pipeline (stop any other poller of the slot first).
 */
export async function benchLatency(
  root: string,
  env: Record<string, string>,
  base: Omit<StepOptions, "rate">,
  o: {
    rate: number;
    seconds: number;
    scheduleSeconds: number;
    consumers: number;
    tag: string;
    acks: BulkAcks;
  },
  proxies: { sqs: CountingProxy; upstash: CountingProxy },
): Promise<LatencyRun> {
  const stack = stackEnvironment(o.scheduleSeconds);
  const pipeline: Pipeline = startPipeline(
    root,
    { ...env, ...stack },
    { consumers: o.consumers, mode: "scheduled" },
  );
  try {
    await settle(base); // cold starts
    // The same load for a while first: processes just started (their code not yet optimised,
    // their connections not yet open) would otherwise put their warm-up into the percentiles.
    await runStep({
      ...base,
      rate: o.rate,
      seconds: LATENCY_WARM_UP_SECONDS,
      lagLimitSeconds: 30,
      tag: `${o.tag}w`,
    });
    pipeline.reset();
    proxies.upstash.reset();
    proxies.sqs.reset();
    const { markers, ...step } = await runStep({
      ...base,
      rate: o.rate,
      seconds: o.seconds,
      lagLimitSeconds: 30,
      markersPerSecond: 20,
      tag: o.tag,
      acks: o.acks,
    });
    const counters = { ...pipeline.counters, leases: [...pipeline.counters.leases] };

    return {
      step,
      markers,
      scheduleSeconds: o.scheduleSeconds,
      runSeconds: Number(stack.POLLER_RUN_SECONDS),
      // Hand-overs while the load ran (the markers' window).
      handOvers: handOvers(counters.leases, step.window),
      counters,
      sqsRequests: [...proxies.sqs.counts.values()].reduce((a, b) => a + b, 0),
      sqs: Object.fromEntries(proxies.sqs.counts),
      upstash: proxies.upstash.commands.value,
    };
  } finally {
    await pipeline.stop();
  }
}

/** Runs the steps at `rates` (one each, a settle between), or the doubling search when none are given. */
export async function benchSteady(
  pipeline: Pipeline,
  consumers: number,
  base: Omit<StepOptions, "rate">,
  search: { start: number; maxSteps: number; minRate: number; budgetSeconds: number; rates?: number[] },
  log: (line: string) => void,
): Promise<SearchResult> {
  // Each step's consumer profile and CPU budget go to the log after the step's own line.
  const sampler = CpuSampler.available() ? new CpuSampler(base.url, () => pipeline.pids()) : undefined;
  sampler?.start();
  const profiled = async (step: StepResult) => {
    log(`    ${batchProfile(pipeline.counters.batches, consumers, step.seconds + step.drainSeconds)}`);
    pipeline.reset();
    const budget = await sampler?.budget(step.window).catch(() => undefined);
    if (budget) {
      step.cpu = budget;
      log(`    ${budgetLine(budget)}`);
    }
  };
  try {
    return await runSteps(pipeline, base, search, log, profiled);
  } finally {
    await sampler?.stop();
  }
}

async function runSteps(
  pipeline: Pipeline,
  base: Omit<StepOptions, "rate">,
  search: { start: number; maxSteps: number; minRate: number; budgetSeconds: number; rates?: number[] },
  log: (line: string) => void,
  profiled: (step: StepResult) => Promise<void>,
): Promise<SearchResult> {
  pipeline.reset();
  if (!search.rates) {
    const result = await searchRate(base, search, log, async (step) => {
      await profiled(step);
      await settle(base, step);
      pipeline.reset();
    });
    // The search ends without running `between` after its last step.
    const last = result.steps.at(-1);
    if (last) await profiled(last);
    return result;
  }
  const steps: StepResult[] = [];
  for (const rate of search.rates) {
    const { markers: _m, ...step } = await runStep({ ...base, rate, tag: `${base.tag}-${rate}` });
    steps.push(step);
    log(`  ${rate}/s: ${stepLine(step)}`);
    await profiled(step);
    await settle(base, step);
    pipeline.reset();
  }
  const kept = steps.filter((s) => s.keptUp).map((s) => s.targetRate);
  const sustained = kept.length > 0 ? Math.max(...kept) : 0;
  return {
    sustained,
    lowerBound: sustained === Math.max(...search.rates),
    lowestTried: Math.min(...search.rates),
    steps,
  };
}
