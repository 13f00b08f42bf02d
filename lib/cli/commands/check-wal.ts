import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type pg from "pg";
import { slotName } from "../../config";
import { connectDatabase } from "../../database";
import {
  checkWal,
  couldNotCheck,
  createNotifiers,
  exitCodeFor,
  formatReport,
  monitorSettingsFromEnv,
  type WalReport,
} from "../../monitor";
import { createStateStore } from "../../runtime";
import { defineCommand } from "../command";

export const checkWalCommand = defineCommand({
  name: "check-wal",
  summary: "check every replication slot's retained WAL and the sync's health; alert on changes",
  usage: ["check-wal [--json] [--dry-run] [--slot <name>]"],
  description: `Reports, per replication slot (the schema's slot first): retained WAL, wal_status in words,
active, safe_wal_size, confirmed-flush lag; for the schema's slot also the last successful poll, the
poller's lag and throughput, and the newest bootstrap. Thresholds: WAL_WARNING_THRESHOLD_GB /
WAL_CRITICAL_THRESHOLD_GB, else 80% / 95% of max_slot_wal_keep_size. Sends an alert when a slot's level
changes (and a reminder every ALERT_REMINDER_MINUTES while it lasts) to ALERT_WEBHOOK_URL and, when
ALERT_EVENT_BUS is set, to EventBridge; the alert state lives in the checkpoint store (Upstash, or
SLOTSYNC_STATE_DIR). Made for cron: */5 * * * * cd /srv/app && slotsync check-wal >> logs/wal-check.log 2>&1

Exit codes: 0 ok; 1 warning; 2 critical (or lost); 3 could not check (database unreachable, bad configuration).`,
  flags: {
    json: { type: "boolean", description: "print the report as JSON instead of text" },
    "dry-run": { type: "boolean", description: "check only: send no alert and keep no alert state" },
    slot: {
      type: "string",
      value: "<name>",
      description: "the schema's slot (default: $SLOTSYNC_SLOT, else slotsync)",
    },
  },
  flagEnv: { slot: "SLOTSYNC_SLOT" },
  async run(ctx) {
    const now = () => new Date(ctx.now());
    let report: WalReport;
    let client: pg.Client | undefined;
    let eventBridge: EventBridgeClient | undefined;
    try {
      // Bad configuration is "could not check" (3) here, not the framework's 2, which means critical.
      const config = ctx.config({ pg: true });
      const settings = monitorSettingsFromEnv(ctx.env, config.alerts);
      eventBridge = settings.eventBus ? new EventBridgeClient({}) : undefined;
      client = await connectDatabase(config.pgUrl, "slotsync-check-wal");
      report = await checkWal(
        {
          db: client,
          store: createStateStore(config.state),
          notifiers: createNotifiers(settings, eventBridge ? { eventBridge } : {}),
          now,
        },
        {
          schemaSlot: slotName(config),
          warningBytes: settings.warningBytes,
          criticalBytes: settings.criticalBytes,
          stalePollMinutes: settings.stalePollMinutes,
          reminderMinutes: settings.reminderMinutes,
          alert: !ctx.flags["dry-run"],
        },
      );
    } catch (error) {
      report = couldNotCheck(error, { now: now() });
    } finally {
      await client?.end().catch(() => undefined);
      eventBridge?.destroy();
    }
    ctx.stdout.write(ctx.flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return exitCodeFor(report);
  },
});
