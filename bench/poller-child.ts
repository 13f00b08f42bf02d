/**
 * The poller side of bench/poller.ts, in its own process so its peak RSS is its own: runs poller
 * cycles against a prepared slot until a cycle finds nothing, sending keys to real SQS (ElasticMQ).
 * Prints one JSON line with counts, time and peak RSS (VmHWM).
 */
import { readFileSync } from "node:fs";
import { SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { pgConnectionConfig } from "../lib/database";
import { DEFAULT_CYCLE_OPTIONS, runCycle } from "../lib/poller";
import { SqsKeyPublisher } from "../lib/queue";
import { ChangeResolver } from "../lib/resolve";
import { QueueHandoffPublisher } from "../lib/runtime";
import { parseSchema, resolveSchema } from "../lib/schema";
import { PgSlotReader } from "../lib/slot";

function peakRssBytes(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const { PG_URL = "", SLOT = "", SCHEMA_JSON = "", QUEUE_URL = "", SQS_ENDPOINT = "" } = process.env;
  const db = new pg.Client(pgConnectionConfig(PG_URL, "bench-poller"));
  await db.connect();
  const schema = await resolveSchema(parseSchema(JSON.parse(SCHEMA_JSON)), db, { checkDatabaseName: false });
  const sqs = new SQSClient({
    endpoint: SQS_ENDPOINT,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const publisher = new QueueHandoffPublisher(new SqsKeyPublisher({ client: sqs, queueUrl: QUEUE_URL }));
  const deps = { db, reader: new PgSlotReader(db, SLOT), resolver: new ChangeResolver(schema), publisher };
  const baseline = peakRssBytes();
  const started = performance.now();
  const totals = { transactions: 0, changes: 0, keys: 0, handoffs: 0, cycles: 0, resolveQueries: 0 };
  for (;;) {
    const cycle = await runCycle(deps, DEFAULT_CYCLE_OPTIONS);
    totals.cycles++;
    totals.transactions += cycle.transactions;
    totals.changes += cycle.changes;
    totals.keys += cycle.keys;
    totals.handoffs += cycle.handoffs;
    totals.resolveQueries += cycle.resolveQueries;
    if (cycle.transactions === 0) break;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      ...totals,
      seconds,
      changesPerSecond: totals.changes / seconds,
      baselineRssBytes: baseline,
      peakRssBytes: peakRssBytes(),
    }),
  );
  await db.end();
  sqs.destroy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
