import { hostname } from "node:os";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { bootstrapSettingsFromEnv, EventBridgeSchedule, resetSlot } from "../../bootstrap";
import { slotName } from "../../config";
import { connectDatabase } from "../../database";
import { createStateStore, openSchema } from "../../runtime";
import { createDocumentSink, isStreamSink } from "../../sink";
import { defineCommand, EXIT } from "../command";
import { UsageError } from "../flags";

export const reset = defineCommand({
  name: "reset",
  summary: "drop the slot and clear checkpoints, leases, alerts and bootstrap progress",
  usage: ["reset [--schema <file|url>] [--delete-indices --yes]"],
  description: `Drops the slot and clears checkpoints, leases, alerts and bootstrap progress; with
\`--delete-indices --yes\` also deletes the indices and aliases.

This is the recovery for a lost or broken slot: run slotsync bootstrap afterwards. Without
--delete-indices the indices stay and keep serving searches; the next bootstrap copies into a new
index behind the alias and switches without downtime. With POLLER_RULE_NAME set, the poller's
schedule is disabled first (bootstrap enables it again).

Exit codes: 0 reset; 1 failure; 2 bad usage or configuration (--delete-indices without --yes).

Environment: PG_URL, SCHEMA or SCHEMA_URL, ELASTICSEARCH_* or OPENSEARCH, SLOTSYNC_SLOT,
UPSTASH_REDIS_REST_URL/TOKEN, SLOTSYNC_STATE_DIR, WRITE_TARGETS_CACHE_SECONDS, POLLER_RULE_NAME.`,
  flags: {
    schema: {
      type: "string",
      value: "<file|url>",
      description: "schema.json path, https:// or s3:// URL (default: $SCHEMA, else $SCHEMA_URL)",
    },
    "delete-indices": { type: "boolean", description: "also delete the indices and aliases (needs --yes)" },
    yes: { type: "boolean", description: "confirm --delete-indices" },
  },
  flagEnv: { schema: "SCHEMA" },
  async run(ctx) {
    if (ctx.flags["delete-indices"] && !ctx.flags.yes) {
      throw new UsageError("--delete-indices deletes every index and alias of the schema and needs --yes", {
        fix: "add --yes to confirm, or leave --delete-indices out to keep the indices serving",
      });
    }
    const config = ctx.config({ pg: true, schema: true, sink: true });
    const settings = bootstrapSettingsFromEnv(ctx.env);
    const sink = createDocumentSink(config.sink);
    const events = settings.pollerRuleName ? new EventBridgeClient({}) : undefined;
    const db = await connectDatabase(config.pgUrl, "slotsync-reset");
    try {
      const schema = await openSchema(config, ctx.env, db);
      const slot = slotName(config);
      const result = await resetSlot(
        {
          slot,
          sink,
          db,
          schema,
          store: createStateStore(config.state),
          holder: `${hostname()}:${process.pid}`,
          ...(events && settings.pollerRuleName
            ? { schedule: new EventBridgeSchedule(events, settings.pollerRuleName) }
            : {}),
        },
        {
          deleteIndices: ctx.flags["delete-indices"],
          yes: ctx.flags.yes,
          targetsCacheMs: settings.targetsCacheMs,
        },
      );
      const out = ctx.stdout;
      if (result.scheduleDisabled) out.write(`disabled the poller's schedule (${settings.pollerRuleName})\n`);
      out.write(
        result.slotDropped
          ? `dropped replication slot "${slot}"\n`
          : `replication slot "${slot}" did not exist\n`,
      );
      out.write("cleared checkpoints, leases, alerts and bootstrap progress\n");
      if (ctx.flags["delete-indices"] && isStreamSink(sink)) {
        out.write(
          `no indices to delete: the ${sink.engine} sink has none (its receiver keeps the documents)\n`,
        );
      } else if (ctx.flags["delete-indices"]) {
        out.write(
          result.deletedIndices.length > 0
            ? `deleted indices: ${result.deletedIndices.join(", ")}\n`
            : "no indices to delete\n",
        );
      }
      out.write("next: slotsync bootstrap\n");
      return EXIT.ok;
    } finally {
      await db.end().catch(() => undefined);
      await sink.close().catch(() => undefined);
      events?.destroy();
    }
  },
});
