import { describe, expect, it } from "vitest";
import type { AlertState } from "../../../lib/checkpoint";
import {
  checkWal,
  decideAlert,
  previousCheck,
  type SlotReport,
  type WalAlertState,
} from "../../../lib/monitor";
import { type FakeServer, fakeDb, MemoryMonitorStore, RecordingNotifier } from "./fakes";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const minutes = (n: number) => new Date(T0 + n * 60_000);
const HOUR = 60 * 60_000;

function slot(level: SlotReport["level"]): SlotReport {
  return {
    name: "app",
    isSchemaSlot: true,
    exists: true,
    slotType: "logical",
    plugin: "wal2json",
    database: "app",
    active: false,
    walStatus: "reserved",
    walStatusMeaning: "",
    retainedBytes: 10,
    safeWalSizeBytes: null,
    confirmedFlushLagBytes: 0,
    restartLsn: "0/1",
    confirmedFlushLsn: "0/1",
    previousRetainedBytes: null,
    level,
    findings:
      level === "ok" ? [] : [{ level, code: "retained-warning", message: `it is ${level}`, fix: "do x" }],
  };
}

describe("decideAlert", () => {
  it("stays quiet on a first check that finds nothing wrong, and raises a first problem", () => {
    expect(decideAlert(slot("ok"), null, minutes(0), HOUR).kind).toBeNull();
    const first = decideAlert(slot("warning"), null, minutes(0), HOUR);
    expect(first).toMatchObject({ kind: "raised", previousLevel: null, since: minutes(0).toISOString() });
  });

  it("notifies each change of level: up, down and back to ok", () => {
    let stored: AlertState | null = null;
    const kinds: (string | null)[] = [];
    const steps: SlotReport["level"][] = ["warning", "critical", "lost", "critical", "ok", "ok"];
    steps.forEach((level, i) => {
      const d = decideAlert(slot(level), stored, minutes(i), HOUR);
      kinds.push(d.kind);
      stored = d.state(d.kind !== null);
    });
    expect(kinds).toEqual(["raised", "raised", "raised", "lowered", "recovered", null]);
  });

  it("reminds while a problem lasts, once per reminder interval", () => {
    const raised = decideAlert(slot("critical"), null, minutes(0), HOUR);
    const stored = raised.state(true);
    expect(decideAlert(slot("critical"), stored, minutes(59), HOUR).kind).toBeNull();
    const reminder = decideAlert(slot("critical"), stored, minutes(60), HOUR);
    expect(reminder.kind).toBe("reminder");
    // The level has been critical since the first check; the reminder moves only lastNotifiedAt.
    const after = reminder.state(true);
    expect(after).toMatchObject({
      since: minutes(0).toISOString(),
      lastNotifiedAt: minutes(60).toISOString(),
    });
    expect(decideAlert(slot("critical"), after, minutes(100), HOUR).kind).toBeNull();
  });

  it("reminds at once when a problem was recorded but never notified (no channel then)", () => {
    const silent = decideAlert(slot("warning"), null, minutes(0), HOUR).state(false);
    expect(silent.lastNotifiedAt).toBeNull();
    expect(decideAlert(slot("warning"), silent, minutes(5), HOUR).kind).toBe("reminder");
  });

  it("stores a lost slot as critical with walLevel lost, and reads it back as lost", () => {
    const state = decideAlert(slot("lost"), null, minutes(0), HOUR).state(true);
    expect(state).toMatchObject({
      level: "critical",
      walLevel: "lost",
      retainedBytes: 10,
      restartLsn: "0/1",
    });
    expect(previousCheck(state)?.level).toBe("lost");
    // A state written without the monitor's extra fields still gives its level.
    const plain: AlertState = { level: "warning", since: minutes(0).toISOString(), lastNotifiedAt: null };
    expect(previousCheck(plain)).toEqual({ level: "warning", retainedBytes: null, restartLsn: null });
  });
});

describe("checkWal alerting", () => {
  const server = (retained: number): FakeServer => ({
    keepSizeMb: "1024",
    slots: [{ slot_name: "app", retained_bytes: String(retained), restart_lsn: "0/100", active: true }],
  });
  const options = { schemaSlot: "app", warningBytes: 100, criticalBytes: 200, stalePollMinutes: 100_000 };

  function setup() {
    const store = new MemoryMonitorStore();
    store.stats.set("app", {
      lastPollAt: minutes(0).toISOString(),
      lastSuccessAt: minutes(0).toISOString(),
      lagBytes: 0,
      changesPerSecond: 0,
      keysPerSecond: 0,
    });
    const notifier = new RecordingNotifier("webhook:json");
    let clock = 0;
    const run = (retained: number, at = clock) => {
      clock = at;
      return checkWal(
        { db: fakeDb(server(retained)), store, notifiers: [notifier], now: () => minutes(at) },
        options,
      );
    };
    return { store, notifier, run };
  }

  it("sends warning, critical and recovery once each, with the alert's facts", async () => {
    const { notifier, run, store } = setup();
    await run(50, 0);
    await run(150, 1);
    await run(160, 2);
    await run(250, 3);
    await run(260, 4);
    const recovered = await run(10, 5);
    expect(notifier.sent.map((a) => [a.kind, a.level, a.previousLevel])).toEqual([
      ["raised", "warning", "ok"],
      ["raised", "critical", "warning"],
      ["recovered", "ok", "critical"],
    ]);
    expect(notifier.sent[1]).toMatchObject({
      slot: "app",
      isSchemaSlot: true,
      retainedBytes: 250,
      thresholds: { warningBytes: 100, criticalBytes: 200, source: "environment" },
      message: "retained WAL 250 bytes is at or above the critical threshold 200 bytes",
      recovery: expect.stringContaining("slotsync status"),
    });
    expect(notifier.sent[2]).toMatchObject({ message: expect.stringMatching(/back to OK/), recovery: "" });
    expect(recovered.alerts).toEqual([
      {
        slot: "app",
        kind: "recovered",
        level: "ok",
        previousLevel: "critical",
        delivered: ["webhook:json"],
        failed: [],
      },
    ]);
    expect(store.alerts.get("app/wal")).toMatchObject({ level: "ok", walLevel: "ok", retainedBytes: 10 });
  });

  it("keeps the previous state when every channel failed, so the next check sends the change again", async () => {
    const { notifier, run, store } = setup();
    await run(50, 0);
    notifier.fail = new Error("receiver down");
    const failed = await run(250, 1);
    expect(failed.alerts[0]).toMatchObject({
      kind: "raised",
      delivered: [],
      failed: [{ channel: "webhook:json" }],
    });
    expect(failed.problems[0]).toMatch(/not delivered to webhook:json: receiver down/);
    expect(store.alerts.get("app/wal")).toMatchObject({ walLevel: "ok" });
    notifier.fail = undefined;
    await run(250, 2);
    expect(notifier.sent.map((a) => [a.kind, a.level])).toEqual([["raised", "critical"]]);
  });

  it("records the state without notifying when no channel is configured, and neither in a dry run", async () => {
    const store = new MemoryMonitorStore();
    const db = fakeDb(server(250));
    const dry = await checkWal({ db, store, now: () => minutes(0) }, { ...options, alert: false });
    expect(dry.level).toBe("critical");
    expect(store.alerts.size).toBe(0);
    const quiet = await checkWal({ db, store, now: () => minutes(0) }, options);
    expect(quiet.alerts).toEqual([
      { slot: "app", kind: "raised", level: "critical", previousLevel: null, delivered: [], failed: [] },
    ]);
    expect((store.alerts.get("app/wal") as WalAlertState).lastNotifiedAt).toBeNull();
  });

  it("gives a report that could not check when the server cannot be read", async () => {
    const report = await checkWal(
      { db: fakeDb({ slots: [], fail: new Error("connection refused") }) },
      options,
    );
    expect(report).toMatchObject({
      checked: false,
      level: "unknown",
      error: "connection refused",
      schemaSlot: "app",
    });
  });
});
