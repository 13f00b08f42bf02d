import { defineCommand, EXIT } from "../command";
import { collectStatus } from "../status/collect";
import { formatStatus } from "../status/format";

export const status = defineCommand({
  name: "status",
  summary: "show the slot, lag, retained WAL, poller, queue, index and bootstrap state",
  usage: ["status [--schema <file|url>] [--json]"],
  description: `Shows what can be read with the configuration at hand: the replication slot (exists,
active, wal_status), its confirmed LSN and lag, the WAL it retains, the poller's last poll and
success and its lease (from the checkpoint store), the queue depth (SQS) or "in-process", the
documents in each index against the root rows in the database, and bootstrap progress. Parts that
are not configured are named; nothing is required.

Exit codes: 0 shown; 1 a configured part could not be read (listed as "error"); 2 bad usage or
configuration.

Environment: PG_URL, SCHEMA or SCHEMA_URL, ELASTICSEARCH_* or OPENSEARCH, SLOTSYNC_SLOT,
SQS_QUEUE_URL, SQS_DLQ_URL, SQS_ENDPOINT, AWS_REGION, UPSTASH_REDIS_REST_URL/TOKEN, SLOTSYNC_STATE_DIR.`,
  flags: {
    schema: {
      type: "string",
      value: "<file|url>",
      description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
    },
    json: { type: "boolean", description: "print the report as one JSON object" },
  },
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    const config = ctx.config({});
    const now = ctx.now();
    const report = await collectStatus(config, ctx.env, now);
    ctx.stdout.write(ctx.flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, now));
    return report.errors.length > 0 ? EXIT.failure : EXIT.ok;
  },
});
