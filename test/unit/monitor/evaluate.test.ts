import { describe, expect, it } from "vitest";
import {
  checkWal,
  type FindingCode,
  readServerWal,
  resolveThresholds,
  settingBytes,
  walStatusMeaning,
} from "../../../lib/monitor";
import { fakeDb, MemoryMonitorStore } from "./fakes";

const MB = 1024 ** 2;
const GB = 1024 ** 3;
const NOW = new Date("2026-03-01T12:00:00.000Z");
const codes = (findings: { code: FindingCode }[]) => findings.map((f) => f.code);

describe("resolveThresholds", () => {
  it("derives 80% and 95% of max_slot_wal_keep_size when nothing is configured", () => {
    expect(resolveThresholds({}, 20 * GB)).toEqual({
      warningBytes: 16 * GB,
      criticalBytes: 19 * GB,
      source: "max_slot_wal_keep_size",
    });
  });

  it("prefers configured thresholds, deriving only the missing one", () => {
    expect(
      resolveThresholds({ warningBytes: 12n * BigInt(GB), criticalBytes: 15n * BigInt(GB) }, 20 * GB),
    ).toEqual({ warningBytes: 12 * GB, criticalBytes: 15 * GB, source: "environment" });
    expect(resolveThresholds({ warningBytes: 5 * GB }, 20 * GB)).toEqual({
      warningBytes: 5 * GB,
      criticalBytes: 19 * GB,
      source: "mixed",
    });
  });

  it("has none with an unlimited keep size and nothing configured", () => {
    expect(resolveThresholds({}, null)).toEqual({ warningBytes: null, criticalBytes: null, source: "none" });
  });
});

describe("settingBytes", () => {
  it("reads pg_settings sizes and treats -1 as unlimited", () => {
    expect(settingBytes({ setting: "15360", unit: "MB" })).toBe(15 * GB);
    expect(settingBytes({ setting: "2", unit: "16MB" })).toBe(32 * MB);
    expect(settingBytes({ setting: "128", unit: "8kB" })).toBe(MB);
    expect(settingBytes({ setting: "-1", unit: "MB" })).toBeNull();
    expect(settingBytes(undefined)).toBeNull();
  });
});

describe("walStatusMeaning", () => {
  it("explains each wal_status in words", () => {
    expect(walStatusMeaning("reserved")).toMatch(/OK/);
    expect(walStatusMeaning("extended")).toMatch(/max_wal_size.*watch it/);
    expect(walStatusMeaning("unreserved")).toMatch(/next checkpoint.*act now/);
    expect(walStatusMeaning("lost")).toMatch(/cannot recover.*reset required/);
    expect(walStatusMeaning(null)).toMatch(/PostgreSQL 13/);
  });
});

describe("readServerWal", () => {
  it("types the rows of pg_replication_slots, lost slots included", async () => {
    const db = fakeDb({
      keepSizeMb: "1024",
      slots: [
        { slot_name: "s", wal_status: "lost", restart_lsn: null, retained_bytes: null, safe_wal_size: null },
      ],
    });
    const server = await readServerWal(db);
    expect(server.maxSlotWalKeepSizeBytes).toBe(GB);
    expect(server.slots).toEqual([
      expect.objectContaining({ name: "s", walStatus: "lost", restartLsn: null, retainedBytes: null }),
    ]);
  });

  it("selects NULL for wal_status before PostgreSQL 13", async () => {
    const db = fakeDb({ versionNum: 120011, slots: [] });
    await readServerWal(db);
    expect(db.queries[1]).toContain("NULL::text AS wal_status");
    expect(db.queries[1]).not.toContain("s.wal_status");
  });
});

describe("slot classification (checkWal on an injected server)", () => {
  const check = (server: Parameters<typeof fakeDb>[0], options: Parameters<typeof checkWal>[1] = {}) =>
    checkWal({ db: fakeDb(server), now: () => NOW }, options);

  it("classifies a lost schema slot as lost with the reset-then-bootstrap recovery", async () => {
    const report = await check(
      {
        keepSizeMb: "1024",
        slots: [{ slot_name: "app", wal_status: "lost", restart_lsn: null, retained_bytes: null }],
      },
      { schemaSlot: "app" },
    );
    const [slot] = report.slots;
    expect(slot?.level).toBe("lost");
    expect(slot?.findings[0]?.fix).toContain("run `slotsync reset` then `slotsync bootstrap`");
    expect(report.level).toBe("lost");
  });

  it("tells another consumer's lost slot to be dropped, not slotsync reset", async () => {
    const report = await check({
      keepSizeMb: "1024",
      slots: [{ slot_name: "debezium", wal_status: "lost" }],
    });
    expect(report.slots[0]?.findings[0]?.fix).toContain("SELECT pg_drop_replication_slot('debezium')");
  });

  it("reports a missing schema slot as critical, telling to bootstrap", async () => {
    const report = await check({ keepSizeMb: "1024", slots: [] }, { schemaSlot: "app" });
    expect(report.slots).toEqual([
      expect.objectContaining({ name: "app", exists: false, isSchemaSlot: true, level: "critical" }),
    ]);
    expect(report.slots[0]?.findings[0]).toMatchObject({
      code: "missing",
      fix: expect.stringContaining("slotsync bootstrap"),
    });
  });

  it("compares retained WAL with the thresholds, inclusively", async () => {
    const slots = [
      { slot_name: "a", retained_bytes: String(99) },
      { slot_name: "b", retained_bytes: String(100) },
      { slot_name: "c", retained_bytes: String(200) },
    ];
    const report = await check({ keepSizeMb: "1024", slots }, { warningBytes: 100, criticalBytes: 200 });
    expect(report.slots.map((s) => [s.name, s.level])).toEqual([
      ["a", "ok"],
      ["b", "warning"],
      ["c", "critical"],
    ]);
    expect(codes(report.slots[2]?.findings ?? [])).toEqual(["retained-critical"]);
  });

  it("derives thresholds from max_slot_wal_keep_size and treats unreserved as critical", async () => {
    const report = await check({
      keepSizeMb: "100",
      slots: [
        { slot_name: "a", retained_bytes: String(81 * MB) },
        {
          slot_name: "b",
          retained_bytes: String(101 * MB),
          wal_status: "unreserved",
          safe_wal_size: String(-MB),
        },
      ],
    });
    expect(report.thresholds).toEqual({
      warningBytes: 80 * MB,
      criticalBytes: 95 * MB,
      source: "max_slot_wal_keep_size",
    });
    expect(report.slots.map((s) => s.level)).toEqual(["warning", "critical"]);
    expect(codes(report.slots[1]?.findings ?? [])).toEqual(["unreserved", "retained-critical"]);
    expect(report.slots[1]?.safeWalSizeBytes).toBe(-MB);
  });

  it("warns about an unlimited max_slot_wal_keep_size on every slot", async () => {
    const report = await check({ keepSizeMb: "-1", slots: [{ slot_name: "a" }] });
    expect(report.slots[0]?.level).toBe("warning");
    expect(report.slots[0]?.findings[0]).toMatchObject({
      code: "keep-size-unlimited",
      fix: expect.stringContaining("15-25% of the disk"),
    });
  });

  it("ignores slots the filter leaves out, but never the schema slot", async () => {
    const report = await check(
      { keepSizeMb: "1024", slots: [{ slot_name: "app" }, { slot_name: "mine" }, { slot_name: "theirs" }] },
      { schemaSlot: "app", include: (s) => s === "mine" },
    );
    expect(report.slots.map((s) => s.name)).toEqual(["app", "mine"]);
  });

  it("warns when an inactive slot did not move while its retained WAL grew, not when it moved", async () => {
    const store = new MemoryMonitorStore();
    const run = (retained: number, restart: string, active = false) =>
      checkWal(
        {
          db: fakeDb({
            keepSizeMb: "1024",
            slots: [{ slot_name: "x", retained_bytes: String(retained), restart_lsn: restart, active }],
          }),
          store,
          now: () => NOW,
        },
        {},
      );
    expect((await run(1000, "0/100")).slots[0]?.level).toBe("ok");
    // Moved and grew: a slot being consumed on a busy server.
    expect((await run(5000, "0/200")).slots[0]?.level).toBe("ok");
    // Grew, did not move: nobody consumes it.
    const stuck = await run(9000, "0/200");
    expect(stuck.slots[0]?.level).toBe("warning");
    expect(stuck.slots[0]?.findings[0]?.message).toMatch(
      /inactive and has not moved.*grew from 4.9 kB to 8.8 kB/,
    );
    // The same while connected is a consumer that is reading: not this warning.
    expect((await run(12000, "0/200", true)).slots[0]?.findings).toEqual([]);
  });
});

describe("sync health of the schema slot", () => {
  const server = { keepSizeMb: "1024", slots: [{ slot_name: "app" }] };
  const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

  function storeWith(lastSuccessMinutesAgo: number | null): MemoryMonitorStore {
    const store = new MemoryMonitorStore();
    if (lastSuccessMinutesAgo !== null) {
      store.stats.set("app", {
        lastPollAt: at(lastSuccessMinutesAgo),
        lastSuccessAt: at(lastSuccessMinutesAgo),
        lagBytes: 2048,
        changesPerSecond: 12,
        keysPerSecond: 7,
      });
    }
    store.checkpoints.set("app", {
      lsn: String(0x16b374d848n),
      committedAt: null,
      updatedAt: at(1),
      counts: { transactions: 1, changes: 2, keys: 2 },
    });
    return store;
  }

  it("reports the poller's heartbeat, lag, throughput and checkpoint", async () => {
    const report = await checkWal(
      { db: fakeDb(server), store: storeWith(2), now: () => NOW },
      { schemaSlot: "app", alert: false },
    );
    expect(report.slots[0]?.level).toBe("ok");
    expect(report.slots[0]?.sync).toMatchObject({
      secondsSinceLastSuccess: 120,
      lagBytesAtLastPoll: 2048,
      changesPerSecond: 12,
      keysPerSecond: 7,
      checkpoint: { lsn: "16/B374D848" },
      bootstrap: null,
    });
  });

  it("warns when the last successful poll is older than the stale limit, or none is recorded", async () => {
    const stale = await checkWal(
      { db: fakeDb(server), store: storeWith(11), now: () => NOW },
      { schemaSlot: "app", alert: false },
    );
    expect(stale.slots[0]?.findings[0]).toMatchObject({ code: "stale-poll", level: "warning" });
    expect(stale.slots[0]?.findings[0]?.message).toContain("11 minutes ago (more than 10)");
    const relaxed = await checkWal(
      { db: fakeDb(server), store: storeWith(11), now: () => NOW },
      { schemaSlot: "app", alert: false, stalePollMinutes: 30 },
    );
    expect(relaxed.slots[0]?.level).toBe("ok");
    const never = await checkWal(
      { db: fakeDb(server), store: storeWith(null), now: () => NOW },
      { schemaSlot: "app", alert: false },
    );
    expect(codes(never.slots[0]?.findings ?? [])).toEqual(["never-polled"]);
  });

  it("summarises the newest bootstrap and warns about failed ranges", async () => {
    const store = storeWith(1);
    store.bootstraps.set("app", {
      bootstrapId: "b1",
      index: "books",
      lsn: "1",
      startedAt: at(30),
      completedAt: null,
      total: 4,
      done: 2,
      running: 0,
      failed: 2,
      pending: 0,
      documents: 2000,
      ranges: {},
    });
    const report = await checkWal(
      { db: fakeDb(server), store, now: () => NOW },
      { schemaSlot: "app", alert: false },
    );
    expect(report.slots[0]?.sync?.bootstrap).toEqual({
      bootstrapId: "b1",
      index: "books",
      startedAt: at(30),
      completedAt: null,
      total: 4,
      done: 2,
      running: 0,
      failed: 2,
      pending: 0,
      documents: 2000,
    });
    expect(report.slots[0]?.findings[0]).toMatchObject({
      code: "bootstrap-failed",
      message: "bootstrap b1: 2 of 4 ranges failed",
    });
  });

  it("warns, without alerting, when the store cannot be read", async () => {
    const store = storeWith(1);
    store.failReads = new Error("upstash unreachable");
    const report = await checkWal({ db: fakeDb(server), store, now: () => NOW }, { schemaSlot: "app" });
    expect(report.slots[0]?.findings[0]).toMatchObject({ code: "store-unreadable" });
    expect(report.alerts).toEqual([]);
    expect(report.problems[0]).toMatch(/could not read the alert state.*upstash unreachable/);
  });
});
