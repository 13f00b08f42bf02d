/**
 * Starts, stops and reports the real local services (PostgreSQL + wal2json, Redis + Upstash REST,
 * Elasticsearch, OpenSearch, ElasticMQ, moto).
 *
 *   npx tsx scripts/services.ts start [name ...]   start what is not running (idempotent)
 *   npx tsx scripts/services.ts stop [name ...]    stop and remove ephemeral data
 *   npx tsx scripts/services.ts status             health, version, start time and memory
 *   npx tsx scripts/services.ts env                print the endpoints as shell variables
 */
import { writeFileSync } from "node:fs";
import {
  ensureServices,
  SERVICE_NAMES,
  type ServiceName,
  serviceStatus,
  stopServices,
} from "../tools/services";

function parseNames(args: string[]): ServiceName[] {
  if (args.length === 0) return [...SERVICE_NAMES];
  for (const a of args) {
    if (!(SERVICE_NAMES as readonly string[]).includes(a)) {
      console.error(`unknown service "${a}"; choose from: ${SERVICE_NAMES.join(", ")}`);
      process.exit(2);
    }
  }
  return args as ServiceName[];
}

async function status(): Promise<boolean> {
  const rows = await serviceStatus();
  if (rows.length === 0) {
    console.log("no services running (start them with: npm run services -- start)");
    return false;
  }
  const table = rows.map((s) => ({
    service: s.name,
    health: s.healthy ? "healthy" : "DOWN",
    version: s.version,
    port: String(s.port),
    pid: String(s.pid),
    "start (s)": (s.startMs / 1000).toFixed(1),
    "RSS (MB)": (s.rssBytes / 1048576).toFixed(0),
  }));
  const cols = Object.keys(table[0] ?? {}) as (keyof (typeof table)[number])[];
  const width = (c: (typeof cols)[number]) => Math.max(c.length, ...table.map((r) => r[c].length));
  console.log(cols.map((c) => c.padEnd(width(c))).join("  "));
  for (const r of table) console.log(cols.map((c) => r[c].padEnd(width(c))).join("  "));
  return rows.every((r) => r.healthy);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const log = (line: string) => console.log(`[services] ${line}`);
  switch (command) {
    case "start": {
      // --started-file F: record which services this call started, so the caller can stop just those.
      const fileFlag = rest.indexOf("--started-file");
      const startedFile = fileFlag >= 0 ? rest[fileFlag + 1] : undefined;
      if (fileFlag >= 0) rest.splice(fileFlag, 2);
      const { started } = await ensureServices(parseNames(rest), log);
      if (startedFile) writeFileSync(startedFile, started.join(" "));
      process.exitCode = (await status()) ? 0 : 1;
      break;
    }
    case "stop":
      await stopServices(parseNames(rest), log);
      break;
    case "status":
      process.exitCode = (await status()) ? 0 : 1;
      break;
    case "env": {
      const { endpoints } = await ensureServices([], () => {});
      console.log(`PG_URL=${endpoints.postgres.url}`);
      console.log(`ELASTICSEARCH_URL=${endpoints.elasticsearch.url}`);
      console.log(`OPENSEARCH_URL=${endpoints.opensearch.url}`);
      console.log(`UPSTASH_REDIS_REST_URL=${endpoints.upstash.url}`);
      console.log(`UPSTASH_REDIS_REST_TOKEN=${endpoints.upstash.token}`);
      console.log(`SQS_ENDPOINT=${endpoints.elasticmq.endpoint}`);
      console.log(`AWS_ENDPOINT_URL_EVENTBRIDGE=${endpoints.moto.endpoint}`);
      break;
    }
    default:
      console.error("usage: services.ts start|stop|status|env [service ...]");
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
