import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../lib/config";
import { ConfigError } from "../../../lib/errors";
import {
  checkWal,
  couldNotCheck,
  createNotifiers,
  EventBridgeNotifier,
  exitCodeFor,
  formatBytes,
  formatDuration,
  formatReport,
  monitorSettingsFromEnv,
  type WalReport,
  WebhookNotifier,
  walMetrics,
} from "../../../lib/monitor";
import { fakeDb, MemoryMonitorStore } from "./fakes";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const GB = 1024 ** 3;

async function sampleReport(): Promise<WalReport> {
  const store = new MemoryMonitorStore();
  store.stats.set("app", {
    lastPollAt: "2026-03-01T11:57:00.000Z",
    lastSuccessAt: "2026-03-01T11:57:00.000Z",
    lagBytes: 4096,
    changesPerSecond: 40,
    keysPerSecond: 12,
  });
  const db = fakeDb({
    keepSizeMb: String(15 * 1024),
    slots: [
      {
        slot_name: "app",
        retained_bytes: String(13 * GB),
        flush_lag_bytes: String(2 * GB),
        wal_status: "extended",
        safe_wal_size: String(2 * GB),
      },
      {
        slot_name: "old",
        slot_type: "physical",
        plugin: null,
        database: null,
        wal_status: "lost",
        retained_bytes: null,
        flush_lag_bytes: null,
      },
    ],
  });
  return checkWal({ db, store, now: () => NOW }, { schemaSlot: "app" });
}

describe("exitCodeFor", () => {
  it("maps the overall level to 0-3", async () => {
    const base = await sampleReport();
    expect(exitCodeFor({ ...base, level: "ok" })).toBe(0);
    expect(exitCodeFor({ ...base, level: "warning" })).toBe(1);
    expect(exitCodeFor({ ...base, level: "critical" })).toBe(2);
    expect(exitCodeFor({ ...base, level: "lost" })).toBe(2);
    expect(exitCodeFor(couldNotCheck(new Error("no route to host")))).toBe(3);
  });
});

describe("formatReport", () => {
  it("prints the header, each slot's facts and findings with their level first", async () => {
    const text = formatReport(await sampleReport());
    const lines = text.split("\n");
    expect(lines[0]).toBe("2026-03-01T12:00:00.000Z slotsync check-wal: LOST");
    expect(lines[1]).toBe(
      "PostgreSQL 15.18 · current WAL 0/5000000 · max_slot_wal_keep_size 15 GB · max_wal_size 1 GB",
    );
    expect(lines[2]).toBe(
      "thresholds: warning 12 GB, critical 14.3 GB (80% / 95% of max_slot_wal_keep_size)",
    );
    expect(text).toContain("slot app (schema slot) [logical, wal2json, database app]: WARNING");
    expect(text).toContain("  retained WAL         13 GB\n");
    expect(text).toContain("  wal_status           extended: the slot keeps more than max_wal_size");
    expect(text).toContain("  last successful poll 3 min ago (2026-03-01T11:57:00.000Z)");
    expect(text).toContain("  poller               lag 4 kB at its last poll · 40 changes/s · 12 keys/s");
    expect(text).toContain("  WARNING retained WAL 13 GB is at or above the warning threshold 12 GB");
    expect(text).toContain("slot old [physical]: LOST");
    expect(text).toContain("  active               no (normal for a polled slot between polls)");
    expect(text).toMatch(/slot old [\s\S]*\n {2}active {15}no\n/);
    expect(text).toMatch(/ {2}LOST slot "old" is lost.*\n {7}fix: drop it/);
    // The first check of a problem is an alert, even with no channel to send it to.
    expect(text).toContain("alert raised: WARNING for slot app (no channel configured)");
  });

  it("says what went wrong when the server could not be read", () => {
    const text = formatReport(couldNotCheck(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { now: NOW }));
    expect(text).toBe(
      [
        "2026-03-01T12:00:00.000Z slotsync check-wal: COULD NOT CHECK",
        "  ERROR connect ECONNREFUSED 10.0.0.5:5432",
        "        fix: check PG_URL and that the database is reachable",
      ].join("\n"),
    );
  });
});

describe("walMetrics", () => {
  it("gives per-slot numbers, leaving out what does not apply", async () => {
    expect(walMetrics(await sampleReport())).toEqual([
      {
        slot: "app",
        metrics: {
          RetainedWalBytes: 13 * GB,
          ConfirmedFlushLagBytes: 2 * GB,
          SecondsSinceLastPoll: 180,
          WalStatusLevel: 1,
        },
      },
      { slot: "old", metrics: { WalStatusLevel: 3 } },
    ]);
  });
});

describe("formatBytes and formatDuration", () => {
  it("write sizes like pg_size_pretty and durations briefly", () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 ** 2, 150 * GB, -2048].map(formatBytes)).toEqual([
      "0 bytes",
      "1023 bytes",
      "1 kB",
      "1.5 kB",
      "10 MB",
      "150 GB",
      "-2 kB",
    ]);
    expect([5, 125, 3 * 3600 + 300, 50 * 3600].map(formatDuration)).toEqual([
      "5 s",
      "2 min",
      "3 h 5 min",
      "2 d 2 h",
    ]);
  });
});

describe("monitorSettingsFromEnv", () => {
  const config = (env: Record<string, string>) => loadConfig(env).alerts;

  it("has the documented defaults and detects the webhook format", () => {
    const env = {
      ALERT_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/X",
      WAL_WARNING_THRESHOLD_GB: "12",
    };
    expect(monitorSettingsFromEnv(env, config(env))).toEqual({
      warningBytes: 12n * BigInt(GB),
      criticalBytes: undefined,
      webhook: { url: "https://hooks.slack.com/services/T/B/X", format: "slack" },
      eventBus: undefined,
      reminderMinutes: 60,
      stalePollMinutes: 10,
      verify: { sample: 100, everyMinutes: 5, settleMs: 5000 },
    });
  });

  it("reads the sampled verify's size and schedule, 0 turning it off, and names a bad value", () => {
    const env = {
      MONITOR_VERIFY_SAMPLE: "0",
      MONITOR_VERIFY_MINUTES: "60",
      MONITOR_VERIFY_SETTLE_SECONDS: "1.5",
    };
    expect(monitorSettingsFromEnv(env, config(env)).verify).toEqual({
      sample: 0,
      everyMinutes: 60,
      settleMs: 1500,
    });
    expect(() => monitorSettingsFromEnv({ MONITOR_VERIFY_SAMPLE: "2.5" }, config({}))).toThrow(
      /MONITOR_VERIFY_SAMPLE must be/,
    );
  });

  it("reads the format, the bus, the reminder and the stale-poll limit", () => {
    const env = {
      ALERT_WEBHOOK_URL: "http://127.0.0.1:9/hook",
      ALERT_WEBHOOK_FORMAT: "Discord",
      ALERT_EVENT_BUS: "ops-bus",
      ALERT_REMINDER_MINUTES: "15",
      MONITOR_STALE_POLL_MINUTES: "3",
    };
    expect(monitorSettingsFromEnv(env, config(env))).toMatchObject({
      webhook: { format: "discord" },
      eventBus: "ops-bus",
      reminderMinutes: 15,
      stalePollMinutes: 3,
    });
    expect(monitorSettingsFromEnv({}, config({}), { defaultEventBus: "default" }).eventBus).toBe("default");
    expect(
      monitorSettingsFromEnv({ ALERT_EVENT_BUS: "none" }, config({}), { defaultEventBus: "default" })
        .eventBus,
    ).toBeUndefined();
  });

  it("names every bad variable at once, never echoing the webhook URL", () => {
    const env = {
      ALERT_WEBHOOK_URL: "https://discord.com/api/webhooks/1/SECRET",
      ALERT_WEBHOOK_FORMAT: "teams",
      ALERT_REMINDER_MINUTES: "0",
    };
    let error: unknown;
    try {
      monitorSettingsFromEnv(env, config(env));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      "2 configuration problems: ALERT_WEBHOOK_FORMAT must be one of discord, slack, json; ALERT_REMINDER_MINUTES must be a number from 1 to 10080",
    );
  });

  it("creates the webhook notifier and, with a client, the EventBridge one", () => {
    const env = { ALERT_WEBHOOK_URL: "https://discord.com/api/webhooks/1/SECRET", ALERT_EVENT_BUS: "ops" };
    const settings = monitorSettingsFromEnv(env, config(env));
    const client = new EventBridgeClient({ region: "us-east-1" });
    const notifiers = createNotifiers(settings, { eventBridge: client });
    expect(notifiers.map((n) => n.channel)).toEqual(["webhook:discord", "eventbridge:ops"]);
    expect(notifiers[0]).toBeInstanceOf(WebhookNotifier);
    expect(notifiers[1]).toBeInstanceOf(EventBridgeNotifier);
    client.destroy();
  });
});
