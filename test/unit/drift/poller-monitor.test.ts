import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileCheckpointStore } from "../../../lib/checkpoint";
import { formatStatus } from "../../../lib/cli/status/format";
import { SchemaDriftError } from "../../../lib/drift";
import {
  alertDrift,
  alertTitle,
  buildDriftAlert,
  DRIFT_EVENT_DETAIL_TYPE,
  type DriftReport,
  discordPayload,
  EventBridgeNotifier,
  exitCodeFor,
  formatReport,
  jsonPayload,
  slackPayload,
} from "../../../lib/monitor";
import { type DriftGateVerdict, type PollerLoopDeps, runPollerLoop } from "../../../lib/poller";
import type { ChangeResolver } from "../../../lib/resolve";
import type { SlotReader } from "../../../lib/slot";
import { RecordingNotifier } from "../monitor/fakes";
import { MemoryDriftStore } from "./fakes";

const finding = {
  index: "book",
  table: "public.book",
  column: "title",
  kind: "column-missing" as const,
  fix: "update schema.json, then `slotsync bootstrap --reindex`",
};
const drift = new SchemaDriftError([finding]);

function loopDeps(gate: {
  before?: DriftGateVerdict;
  after?: DriftGateVerdict;
  peekError?: Error;
}): PollerLoopDeps & { advanced: number; published: number } {
  const deps = {
    advanced: 0,
    published: 0,
    db: { query: async () => ({ rows: [{ lag: "0" }] }) } as never,
    reader: {
      async *peek() {
        if (gate.peekError) throw gate.peekError;
        yield* [];
      },
      advance: async () => {
        deps.advanced++;
        return 0n;
      },
    } as unknown as SlotReader,
    resolver: {
      schema: { indices: [] },
      tables: () => [],
      partitionedTables: () => [],
    } as unknown as ChangeResolver,
    publisher: { publish: async () => void deps.published++ },
    state: {
      acquire: async () => ({ token: 1 }),
      renew: async () => true,
      release: async () => undefined,
      checkpoint: async () => undefined,
      heartbeat: async () => undefined,
    },
    sleep: async () => undefined,
    drift: {
      beforeCycle: async () => gate.before ?? { status: "ok" as const },
      afterFailure: async () => gate.after ?? { status: "ok" as const },
    },
  };
  return deps;
}

const loopOptions = {
  slot: "s",
  holder: "h",
  pollIntervalMs: 1,
  safetyMarginMs: 0,
  leaseTtlMs: 1000,
  fetchSize: 10,
  maxChangesPerCycle: 10,
  resolveEvery: 10,
  publishEvery: 10,
  visibilityTimeoutMs: 10,
};

describe("the poller loop on schema drift", () => {
  it("stops before a cycle when the periodic check finds drift: nothing read, sent or advanced", async () => {
    const deps = loopDeps({ before: { status: "drift", error: drift } });
    const summary = await runPollerLoop(deps, loopOptions, Date.now() + 60_000);
    expect(summary).toMatchObject({
      outcome: "schema-drift",
      cycles: 0,
      drift: { status: "drift", error: drift },
    });
    expect(deps.advanced).toBe(0);
    expect(deps.published).toBe(0);
  });

  it("stops cleanly when a failed cycle turns out to be drift, and throws other failures", async () => {
    const failure = Object.assign(new Error("column does not exist"), { code: "42703" });
    const deps = loopDeps({ peekError: failure, after: { status: "drift", error: drift } });
    const summary = await runPollerLoop(deps, loopOptions, Date.now() + 60_000);
    expect(summary.outcome).toBe("schema-drift");
    expect(deps.advanced).toBe(0);
    const other = loopDeps({ peekError: failure });
    await expect(runPollerLoop(other, loopOptions, Date.now() + 60_000)).rejects.toBe(failure);
  });
});

describe("the schema drift alert", () => {
  const report: DriftReport = {
    schemaHash: "h1",
    findings: [finding],
    detectedAt: "2026-11-21T10:00:00.000Z",
    checkedAt: "2026-11-21T10:00:00.000Z",
    source: "poller",
  };
  const ctx = (now: string, problems: string[] = []) => ({
    slot: "slotsync_app",
    slotReport: undefined,
    thresholds: { warningBytes: null, criticalBytes: null, source: "none" as const },
    now: new Date(now),
    reminderMs: 60 * 60_000,
    problems,
  });

  it("is raised when drift appears, reminds hourly, is raised again for a new finding, recovers when gone", async () => {
    const store = new MemoryDriftStore();
    const notifier = new RecordingNotifier();
    const raised = await alertDrift(store, [notifier], report, ctx("2026-11-21T10:01:00.000Z"));
    expect(raised).toMatchObject({
      topic: "schema-drift",
      kind: "raised",
      level: "critical",
      delivered: ["test"],
    });
    expect(notifier.sent[0]).toMatchObject({
      topic: "schema-drift",
      level: "critical",
      message: expect.stringMatching(/index book: column public\.book\.title is missing/),
      recovery: finding.fix,
      drift: { findings: [finding] },
    });
    expect(await alertDrift(store, [notifier], report, ctx("2026-11-21T10:30:00.000Z"))).toBeUndefined();
    expect(await alertDrift(store, [notifier], report, ctx("2026-11-21T11:02:00.000Z"))).toMatchObject({
      kind: "reminder",
    });
    const more = { ...report, findings: [finding, { ...finding, column: "price" }] };
    expect(await alertDrift(store, [notifier], more, ctx("2026-11-21T11:03:00.000Z"))).toMatchObject({
      kind: "raised",
    });
    const cleared = { ...report, findings: [] };
    expect(await alertDrift(store, [notifier], cleared, ctx("2026-11-21T11:10:00.000Z"))).toMatchObject({
      kind: "recovered",
      level: "ok",
    });
    expect(await alertDrift(store, [notifier], cleared, ctx("2026-11-21T13:10:00.000Z"))).toBeUndefined();
    expect(notifier.sent.map((a) => a.kind)).toEqual(["raised", "reminder", "raised", "recovered"]);
  });

  it("is sent again at the next check when no channel took it", async () => {
    const store = new MemoryDriftStore();
    const notifier = new RecordingNotifier();
    notifier.fail = new Error("down");
    const problems: string[] = [];
    expect(
      await alertDrift(store, [notifier], report, ctx("2026-11-21T10:01:00.000Z", problems)),
    ).toMatchObject({
      failed: [{ channel: "test" }],
    });
    expect(problems[0]).toMatch(/schema drift alert .* not delivered/);
    notifier.fail = undefined;
    expect(await alertDrift(store, [notifier], report, ctx("2026-11-21T10:02:00.000Z"))).toMatchObject({
      kind: "raised",
    });
  });

  it("every format names index, table, column and the fix", async () => {
    const alert = buildDriftAlert(report, "raised", {
      ...ctx("2026-11-21T10:01:00.000Z"),
      since: "x",
      previous: null,
    });
    expect(alertTitle(alert)).toBe("slotsync SCHEMA DRIFT CRITICAL: index book");
    for (const payload of [discordPayload(alert), slackPayload(alert), jsonPayload(alert)]) {
      const text = JSON.stringify(payload);
      expect(text).toContain("public.book");
      expect(text).toContain("title");
      expect(text).toContain("slotsync bootstrap --reindex");
    }
    expect(jsonPayload(alert).type).toBe("slotsync.schema-drift");
    const sent: { input: { Entries: { DetailType: string; Detail: string }[] } }[] = [];
    const events = new EventBridgeNotifier({
      client: {
        send: (async (c: (typeof sent)[number]) => {
          sent.push(c);
          return { FailedEntryCount: 0 };
        }) as never,
      },
      eventBus: "default",
    });
    await events.notify(alert);
    expect(sent[0]?.input.Entries[0]?.DetailType).toBe(DRIFT_EVENT_DETAIL_TYPE);
    expect(JSON.parse(sent[0]?.input.Entries[0]?.Detail ?? "{}").drift.findings[0].column).toBe("title");
  });
});

describe("drift records in the file checkpoint store", () => {
  it("reads, replaces and clears records per slot; reset removes them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "slotsync-drift-"));
    try {
      const store = new FileCheckpointStore({ dir });
      expect(await store.readDrift("a")).toEqual({});
      await store.writeDrift("a", "schema-1", { v: 1, x: [1] });
      await store.writeDrift("a", "schema-2", { v: 1 });
      await store.writeDrift("b", "schema-1", { v: 2 });
      expect(await store.readDrift("a")).toEqual({ "schema-1": { v: 1, x: [1] }, "schema-2": { v: 1 } });
      await store.clearDrift("a", "schema-1");
      expect(Object.keys(await store.readDrift("a"))).toEqual(["schema-2"]);
      await store.clearDrift("a");
      expect(await store.readDrift("a")).toEqual({});
      expect(await store.readDrift("b")).toEqual({ "schema-1": { v: 2 } });
      await store.reset("b");
      expect(await store.readDrift("b")).toEqual({});
      await expect(store.writeDrift("a", "bad name", {})).rejects.toThrow(/drift name/);
      await expect(store.writeDrift("a", "x", [] as never)).rejects.toThrow(/JSON object/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("drift in the reports people read", () => {
  it("check-wal prints each finding as a CRITICAL line with its fix and exits 2", () => {
    const report = {
      at: "2026-11-21T10:00:00.000Z",
      checked: true,
      level: "ok" as const,
      schemaSlot: "s",
      server: null,
      thresholds: null,
      slots: [],
      alerts: [],
      problems: [],
      drift: {
        schemaHash: "h1",
        findings: [finding],
        detectedAt: "2026-11-21T09:59:00.000Z",
        checkedAt: "2026-11-21T10:00:00.000Z",
        source: "poller",
      },
    };
    const text = formatReport(report);
    expect(text).toContain("CRITICAL index book: column public.book.title is missing");
    expect(text).toContain("fix: update schema.json");
    expect(exitCodeFor(report)).toBe(2);
    expect(exitCodeFor({ ...report, drift: { ...report.drift, findings: [] } })).toBe(0);
  });

  it("slotsync status shows a SCHEMA DRIFT row per finding", () => {
    const text = formatStatus(
      {
        configuration: {
          postgres: null,
          schema: null,
          search: null,
          sinkHasIndices: null,
          queue: "in-process",
          state: "dir",
        },
        slot: null,
        poller: null,
        queue: { kind: "in-process" },
        indices: [],
        bootstraps: [],
        copies: [],
        drift: { findings: [finding], detectedAt: "2026-11-21T09:59:00.000Z", source: "poller" },
        notConfigured: [],
        errors: [],
      },
      Date.parse("2026-11-21T10:00:00.000Z"),
    );
    expect(text).toMatch(
      /SCHEMA DRIFT\s+index book: column public\.book\.title is missing — update schema\.json/,
    );
  });
});
