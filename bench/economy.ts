/**
 * `npm run bench -- --only economy`: what an idle deployment in economy mode does and pays, and how
 * soon the first change after a quiet spell is searchable. The deployed handlers run in this
 * process (only the Lambda runtime is missing), against the real PostgreSQL, Upstash REST adapter,
 * ElasticMQ and Elasticsearch, through counting proxies.
 *
 * - Idle runs: one cold run, then warm runs as the schedule would make them (a warm container is
 *   reused when invoked every minute); their duration, Upstash commands and SQS requests.
 * - First change after idle runs: commit, then a scheduled run (the worst case adds one schedule
 *   period before it starts), the consumer on what it sent, until the document is searchable.
 * - The monthly cost of both modes from those counts, fixed costs itemised (bench/cost.ts).
 */
import { randomBytes } from "node:crypto";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { POLLER_OVERLAP_SECONDS } from "../infra/functions";
import { LEASE_WAIT_STEP_MS } from "../lib/poller";
import type { SqsEvent } from "../lib/queue";
import { recordFromSqsMessage } from "../lib/queue";
import { createSink, TOMBSTONE_INDEX_SETTINGS } from "../lib/sink";
import { scratchDir, writeSchemaCopy } from "../test/support/cli";
import { startProxy } from "../test/support/http-proxy";
import { elasticsearchSinkConfig, lambdaEnvironment } from "../test/support/lambda-env";
import { applySchemaFixture, createTestDatabase } from "../test/support/pg";
import { createTestQueues } from "../test/support/sqs";
import { getServices } from "../tools/services";
import { type FixedCostOptions, fixedCosts, type ModeCosts, modeIdleCosts } from "./cost";
import { STACK_POLLER_RUN_SECONDS } from "./poller";

export interface EconomyResult {
  idleRuns: {
    count: number;
    coldMs: number;
    warmMedianMs: number;
    warmP95Ms: number;
    upstashCommandsPerRun: number;
    sqsRequestsPerRun: number;
  };
  firstChange: {
    /** Commit → the run's keys accepted by SQS. */
    sentMs: number;
    /** Commit → the consumer's bulk acknowledged by the engine. */
    acknowledgedMs: number;
    /** Commit → found by a search (includes the index's refresh interval). */
    searchableMs: number;
    /** Worst case with `rate(1 minute)`: a whole schedule period before the run, plus the above. */
    worstCaseSeconds: number;
  };
  monthly: { economy: ModeCosts; latency: ModeCosts; fixed: ReturnType<typeof fixedCosts> };
}

const context = (ms: number) => ({
  awsRequestId: `bench-${randomBytes(3).toString("hex")}`,
  getRemainingTimeInMillis: () => ms,
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/**
 * Runs the economy benchmark; `warmRuns` idle runs after the cold one. `fixed` says what the
 * deployment's fixed costs include (alarms, metrics, NAT).
 */
export async function benchEconomy(
  warmRuns: number,
  fixed: FixedCostOptions,
  log: (line: string) => void,
): Promise<EconomyResult> {
  const services = getServices();
  const db = await createTestDatabase("economy");
  const queues = await createTestQueues("economy");
  const scratch = await scratchDir("economy");
  const upstash = await startProxy(services.upstash.url, { upstash: true });
  const sqs = await startProxy(services.elasticmq.endpoint);
  const slot = `slotsync_economy_${randomBytes(4).toString("hex")}`;
  const index = `economy-${randomBytes(4).toString("hex")}`;
  const sink = createSink(elasticsearchSinkConfig());
  const saved = { ...process.env };
  try {
    await applySchemaFixture(db.client, "bookstore");
    await db.client.query("ALTER TABLE review REPLICA IDENTITY FULL");
    await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
    const schemaFile = await writeSchemaCopy(scratch.dir, "bookstore", () => index);
    // The tombstone settings bootstrap gives every index, and the one mapping dynamic mapping would
    // get wrong (the schema's analyzers need analysis-common, which the local engines lack).
    await sink.createIndex(index, {
      settings: { ...TOMBSTONE_INDEX_SETTINGS },
      mappings: { properties: { doc_coordinates: { type: "float" } } },
    });
    const env = lambdaEnvironment(
      { pgUrl: db.url, schema: schemaFile, slot, queues },
      {
        DATABASE: db.name,
        POLLER_MODE: "economy",
        POLLER_RUN_SECONDS: "63",
        UPSTASH_REDIS_REST_URL: upstash.url,
        SQS_ENDPOINT: sqs.url,
        POWERTOOLS_METRICS_DISABLED: "true",
        POWERTOOLS_LOG_LEVEL: "ERROR",
      },
    );
    Object.assign(process.env, env);
    const { handler: poller } = await import("../lambdas/poller");
    const { handler: consumer } = await import("../lambdas/consumer");

    // Idle runs: the first is the cold start (configuration, schema, connections).
    const durations: number[] = [];
    let commands = 0;
    let sqsRequests = 0;
    for (let i = 0; i <= warmRuns; i++) {
      upstash.reset();
      sqs.reset();
      const started = performance.now();
      const summary = await poller({}, context(900_000));
      durations.push(performance.now() - started);
      if (summary.outcome !== "idle") throw new Error(`an idle run ended ${String(summary.outcome)}`);
      if (i > 0) {
        commands += upstash.commands.value;
        sqsRequests += [...sqs.counts.values()].reduce((a, b) => a + b, 0);
      }
    }
    const [cold = 0, ...warm] = durations;
    const idleRuns = {
      count: warmRuns,
      coldMs: Math.round(cold),
      warmMedianMs: Math.round(percentile(warm, 50)),
      warmP95Ms: Math.round(percentile(warm, 95)),
      upstashCommandsPerRun: +(commands / warmRuns).toFixed(2),
      sqsRequestsPerRun: +(sqsRequests / warmRuns).toFixed(2),
    };
    log(`idle runs: ${JSON.stringify(idleRuns)}`);

    // The first change after idle runs: commit, then the next scheduled run and the consumer.
    const marker = `economy ${randomBytes(3).toString("hex")}`;
    const committed = performance.now();
    await db.client.query("UPDATE book SET title = $1 WHERE id = 1", [marker]);
    const run = poller({}, context(900_000));
    const received = await receiveKeys(queues.client, queues.queueUrl);
    const sentMs = performance.now() - committed;
    const response = await consumer(received, context(60_000));
    if (response.batchItemFailures.length > 0) throw new Error("the consumer failed the first change");
    const acknowledgedMs = performance.now() - committed;
    await waitSearchable(sink, index, marker);
    const searchableMs = performance.now() - committed;
    await run;
    const firstChange = {
      sentMs: Math.round(sentMs),
      acknowledgedMs: Math.round(acknowledgedMs),
      searchableMs: Math.round(searchableMs),
      worstCaseSeconds: +(60 + searchableMs / 1000).toFixed(1),
    };
    log(`first change after idle: ${JSON.stringify(firstChange)}`);

    const economy = modeIdleCosts({
      mode: "economy",
      pollerSecondsPerRun: idleRuns.warmMedianMs / 1000,
      upstashCommandsPerRun: idleRuns.upstashCommandsPerRun,
      sqsRequestsPerRun: idleRuns.sqsRequestsPerRun,
    });
    // Latency mode: each run polls its whole length (the period plus the hand-over overlap).
    // Beyond what an idle economy run sends, its idle cycles renew the lease every 20 s (3) and
    // write a second heartbeat a minute in (1), and it first waits for the lease through the
    // previous run's overlap, asking every LEASE_WAIT_STEP_MS.
    const leaseWaitCommands = Math.ceil((POLLER_OVERLAP_SECONDS * 1000) / LEASE_WAIT_STEP_MS);
    const latency = modeIdleCosts({
      mode: "latency",
      pollerSecondsPerRun: STACK_POLLER_RUN_SECONDS,
      upstashCommandsPerRun: idleRuns.upstashCommandsPerRun + 4 + leaseWaitCommands,
      sqsRequestsPerRun: 0,
    });
    return { idleRuns, firstChange, monthly: { economy, latency, fixed: fixedCosts(fixed) } };
  } finally {
    process.env = saved;
    await sink.deleteIndex(index).catch(() => undefined);
    await sink.close();
    await db.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
    await db.drop();
    await queues.remove();
    await scratch.remove();
    await upstash.close();
    await sqs.close();
  }
}

/** Receives until the run's key messages arrive, as the SQS event source would deliver them. */
async function receiveKeys(client: SQSClient, queueUrl: string): Promise<SqsEvent> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length > 0) return { Records: messages.map((m) => recordFromSqsMessage(m)) };
  }
  throw new Error("the run's keys never reached the queue");
}

/** Searches until the marker is found (the index's refresh interval makes it visible). */
async function waitSearchable(
  sink: ReturnType<typeof createSink>,
  index: string,
  marker: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await sink.count(index, { match_phrase: { book_title: marker } })) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`"${marker}" was never searchable`);
}

/**
 * The default deployment's fixed costs: the stack's 20 alarms (infra/alarms.ts), the 23 metrics
 * the functions publish by default for one slot and one index (`SLOTSYNC_METRICS=standard`, what
 * alarms and the dashboard read), one alarm topic, no VPC. The report adds the variants.
 */
export const ECONOMY_FIXED: FixedCostOptions = {
  alarms: 20,
  customMetrics: 23,
  criticalTopic: false,
  nat: false,
};
/** `SLOTSYNC_METRICS=alarms`: only the 10 metrics alarms read (lambdas/metric-sets.ts). */
const ALARM_METRICS_ONLY = 10;

const usd = (v: number) => `$${v.toFixed(2)}`;
const n = (v: number) => v.toLocaleString("en-US");

/** The result as Markdown (bench/results/economy.md). */
export function economyMarkdown(r: EconomyResult): string {
  const { idleRuns: i, firstChange: f, monthly: m } = r;
  const withNat = fixedCosts({ ...ECONOMY_FIXED, nat: true });
  const fewer = fixedCosts({ ...ECONOMY_FIXED, customMetrics: ALARM_METRICS_ONLY });
  const lines = (costs: { lines: { item: string; quantity: number; usd: number }[] }) =>
    costs.lines.map((l) => `| ${l.item} | ${n(l.quantity)} | ${usd(l.usd)} |`);
  return [
    "# Economy mode: idle cost and the first change after idle",
    "",
    `Idle runs (warm, ${i.count}): median ${i.warmMedianMs} ms, p95 ${i.warmP95Ms} ms; cold start ${i.coldMs} ms;`,
    `${i.upstashCommandsPerRun} Upstash commands and ${i.sqsRequestsPerRun} SQS requests per run.`,
    "",
    `First change after idle runs: keys in SQS ${f.sentMs} ms after the commit, acknowledged by the engine`,
    `after ${f.acknowledgedMs} ms, searchable after ${f.searchableMs} ms; worst case with rate(1 minute)`,
    `(the change lands just after a run looked): ${f.worstCaseSeconds} s.`,
    "",
    "## Variable idle cost per month",
    "",
    "| item | quantity | cost |",
    "| --- | --- | --- |",
    "| **economy** | | |",
    ...lines(m.economy),
    `| economy total | | **${usd(m.economy.totalUsd)}** |`,
    "| **latency** | | |",
    ...lines(m.latency),
    `| latency total | | **${usd(m.latency.totalUsd)}** |`,
    "",
    "## Fixed cost per month (either mode)",
    "",
    "| item | quantity | cost |",
    "| --- | --- | --- |",
    ...lines(m.fixed),
    `| total | | **${usd(m.fixed.totalUsd)}** |`,
    `| with \`SLOTSYNC_METRICS=alarms\` (${ALARM_METRICS_ONLY} metrics) | | **${usd(fewer.totalUsd)}** |`,
    `| with functions in a VPC behind one NAT gateway | | **${usd(withNat.totalUsd)}** |`,
    "",
    "List prices, us-east-1, no free tiers, Arm Lambdas, 30-day month (bench/cost.ts names each",
    "price's source and date). Not included: CloudWatch Logs ingestion, data transfer, and the",
    "search engine and database themselves.",
    "",
  ].join("\n");
}
