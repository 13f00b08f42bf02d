import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AlertNotifier,
  checkWal,
  DIVERGENCE_STATE_NAME,
  type DivergenceSettings,
  runSchemaChecks,
  type WalAlert,
} from "../../lib/monitor";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { readSchemaFixture } from "../support/pg";
import {
  expectIndexEqualsDatabase as expectIndexEquals,
  openSyncSuite,
  type SyncSuite,
  whileSyncing,
} from "../support/sync-suite";

// The monitor's checks of the schema's tables and indices, against the real database, index and
// checkpoint store: the sampled verify that proves the index right (DocumentsDiverged), and the
// run-time replica identity check that names the ALTER TABLE.

let suite: SyncSuite;
let spec: unknown;
const alerts: WalAlert[] = [];
const notifier: AlertNotifier = {
  channel: "test",
  async notify(alert) {
    alerts.push(alert);
  },
};
/** The monitor's clock: each check is a scheduled run some minutes after the previous one. */
let clock = Date.parse("2026-01-01T00:00:00Z");
const SETTINGS: DivergenceSettings = { sample: 500, everyMinutes: 5, settleMs: 0 };

beforeAll(async () => {
  suite = await openSyncSuite("partitions");
  spec = await readSchemaFixture("partitions");
}, 120_000);

afterAll(async () => {
  await suite?.close();
});

function checks(settings: DivergenceSettings = SETTINGS) {
  return runSchemaChecks(
    {
      db: suite.db.client,
      resolve: (c: pg.ClientBase) =>
        resolveSchema(parseSchema(spec, { env: { DATABASE: "x" } }), c, { checkDatabaseName: false }),
      builders: async () => [...suite.builders.values()],
      sink: suite.sink,
      target: (index) => suite.targets.get(index) ?? index,
      store: suite.store,
      slot: suite.slot,
      now: () => new Date(clock),
    },
    settings,
  );
}

/** The monitor's whole check: schema checks, then the WAL check that alerts with their findings. */
async function monitorRun(minutesLater: number) {
  clock += minutesLater * 60_000;
  // Sampling documents is a search: it sees what the last refresh made visible (1 s in production).
  await suite.sink.refresh(suite.targets.get("orders") as string);
  const schema = await checks();
  const report = await checkWal(
    { db: suite.db.client, store: suite.store, notifiers: [notifier], now: () => new Date(clock) },
    { schemaSlot: suite.slot, schemaFindings: schema.findings },
  );
  return { schema, report, slotReport: report.slots.find((s) => s.name === suite.slot) };
}

function expectIndexEqualsDatabase(): Promise<void> {
  return expectIndexEquals(suite, "orders", "orders");
}

/** The schema slot's alert stepped down from critical (to ok, or to a warning it had before). */
function expectCriticalGone(): void {
  const alert = alerts.find((a) => a.slot === suite.slot);
  expect(alert?.previousLevel).toBe("critical");
  expect(["lowered", "recovered"]).toContain(alert?.kind);
}

/** A rebuild at the slot's confirmed position: what `slotsync reconcile --rebuild` asks for. */
async function reconcileRebuild(): Promise<void> {
  const { rows } = await suite.db.client.query<{ lsn: string }>(
    "SELECT (confirmed_flush_lsn - '0/0')::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [suite.slot],
  );
  suite.pipeline.enqueue([
    { kind: "rebuild", index: "orders", lsn: BigInt(rows[0]?.lsn ?? "0"), sentAt: new Date().toISOString() },
  ]);
  await suite.pipeline.drain();
}

describe("the monitor's sampled verify", () => {
  it("finds nothing while the index equals the database", async () => {
    const { schema, slotReport } = await monitorRun(0);
    expect(schema.problems).toEqual([]);
    expect(schema.documents).toMatchObject({ ran: true, diverged: 0, suspected: 0 });
    expect(schema.documents?.indices[0]?.compared).toBeGreaterThanOrEqual(240);
    expect(slotReport?.findings.map((f) => f.code)).not.toContain("documents-diverged");
  });

  it("reports a document tampered with in the index, once two checks in a row found it", async () => {
    const target = suite.targets.get("orders") as string;
    const [doc] = await suite.sink.getDocuments(target, ["5|2025-01-06"]);
    expect(doc).toBeDefined();
    // Written behind the sync's back, with a version no sync write can beat: a changed total, a
    // document without a root row, and a deleted document.
    const version = 2n ** 62n;
    const written = await suite.sink.write([
      {
        kind: "index",
        index: target,
        id: "5|2025-01-06",
        source: { ...doc?.source, total: 123456.78 },
        version,
      },
      { kind: "index", index: target, id: "9999|2025-01-01", source: { id: 9999 }, version },
      { kind: "delete", index: target, id: "7|2025-01-08", version },
    ]);
    expect(written.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok"]);

    // Too soon: the last check was a minute ago, its result stands.
    const early = await monitorRun(1);
    expect(early.schema.documents).toMatchObject({ ran: false, diverged: 0 });

    // The first check that sees them only suspects them: a change on its way looks the same.
    const first = await monitorRun(5);
    expect(first.schema.documents).toMatchObject({ ran: true, diverged: 0, suspected: 3 });
    expect(first.slotReport?.findings.map((f) => f.code)).not.toContain("documents-diverged");

    // Still wrong a check interval later: diverged, reported and alerted with the schema slot.
    alerts.length = 0;
    const second = await monitorRun(5);
    expect(second.schema.documents).toMatchObject({ ran: true, diverged: 3, suspected: 0 });
    expect(second.schema.documents?.indices[0]).toMatchObject({
      index: "orders",
      missing: 1,
      extra: 1,
      different: 1,
      diverged: 3,
    });
    expect([...(second.schema.documents?.indices[0]?.examples ?? [])].sort()).toEqual([
      "5|2025-01-06",
      "7|2025-01-08",
      "9999|2025-01-01",
    ]);
    const finding = second.slotReport?.findings.find((f) => f.code === "documents-diverged");
    expect(finding).toMatchObject({ level: "critical" });
    expect(finding?.message).toContain("index orders: 3 documents");
    expect(finding?.fix).toContain("slotsync verify --index orders --all");
    const alert = alerts.find((a) => a.slot === suite.slot);
    expect(alert).toMatchObject({ kind: "raised", level: "critical" });
    expect(alert?.message).toContain("5|2025-01-06");

    // Between checks the stored result keeps the finding, so the alarm and the alert hold.
    const between = await monitorRun(1);
    expect(between.schema.documents).toMatchObject({ ran: false, diverged: 3 });
    expect(between.slotReport?.findings.map((f) => f.code)).toContain("documents-diverged");
    const state = await suite.store.readAlert(suite.slot, DIVERGENCE_STATE_NAME);
    expect(state).toMatchObject({ level: "critical" });
  });

  it("clears once the index is repaired", async () => {
    await suite.sink.deleteIndex(suite.targets.get("orders") as string);
    await suite.sink.createIndex(suite.targets.get("orders") as string);
    await reconcileRebuild();
    await expectIndexEqualsDatabase();
    alerts.length = 0;
    const { schema } = await monitorRun(5);
    expect(schema.documents).toMatchObject({ ran: true, diverged: 0, suspected: 0 });
    expectCriticalGone();
  });

  it("is off with MONITOR_VERIFY_SAMPLE=0", async () => {
    clock += 10 * 60_000;
    const schema = await checks({ ...SETTINGS, sample: 0 });
    expect(schema.documents).toBeUndefined();
    expect(schema.replicaIdentityMissing).toBe(0);
  });
});

describe("replica identity at run time", () => {
  it("raises a critical alert naming each table and its ALTER TABLE when a table loses FULL", async () => {
    alerts.length = 0;
    await whileSyncing(suite, async () => {
      // Set back to DEFAULT, a partition dropped and created again, and a new partition: all DEFAULT.
      await suite.db.client.query(`ALTER TABLE note_2025_01 REPLICA IDENTITY DEFAULT;
        ALTER TABLE note DETACH PARTITION note_2025_02;
        DROP TABLE note_2025_02;
        CREATE TABLE note_2025_02 PARTITION OF note FOR VALUES FROM ('2025-02-01') TO ('2025-03-01');
        CREATE TABLE note_2025_03 PARTITION OF note FOR VALUES FROM ('2025-03-01') TO ('2025-04-01')`);
    });
    const { schema, slotReport } = await monitorRun(5);
    expect(schema.replicaIdentityMissing).toBe(3);
    const findings = slotReport?.findings.filter((f) => f.code === "replica-identity") ?? [];
    expect(findings.map((f) => f.level)).toEqual(["critical", "critical", "critical"]);
    for (const table of ["note_2025_01", "note_2025_02", "note_2025_03"]) {
      const f = findings.find((x) => x.message.includes(`public.${table} `));
      expect(f?.message, table).toContain("REPLICA IDENTITY DEFAULT, but index orders needs the old");
      expect(f?.fix, table).toContain(`ALTER TABLE "public"."${table}" REPLICA IDENTITY FULL;`);
      expect(f?.fix, table).toContain("slotsync reconcile --rebuild --index orders");
    }
    const alert = alerts.find((a) => a.slot === suite.slot);
    expect(alert).toMatchObject({ kind: "raised", level: "critical" });
    expect(alert?.message).toContain("REPLICA IDENTITY DEFAULT");
    expect(alert?.recovery).toMatch(/ALTER TABLE "public"\."note_2025_0[123]" REPLICA IDENTITY FULL;/);
  });

  it("the named fix and repair end with the index equal to the database", async () => {
    // While the identity is DEFAULT, a note moved to another order: the WAL does not say which
    // order it left, so that order's document keeps the note.
    await suite.db.client.query(
      "INSERT INTO note VALUES (901, '2025-01-10', 1, '2025-01-02', 'moving note')",
    );
    await suite.pipeline.drain();
    await expectIndexEqualsDatabase();
    await suite.db.client.query(
      "UPDATE note SET order_id = 2, order_day = '2025-01-03' WHERE id = 901 AND day = '2025-01-10'",
    );
    await suite.pipeline.drain();
    const stale = await suite.pipeline.compare("orders");
    expect(stale.different.map((d) => d.id)).toEqual(["1|2025-01-02"]);

    // The fix the alert names, then the repair it names.
    alerts.length = 0;
    for (const table of ["note_2025_01", "note_2025_02", "note_2025_03"]) {
      await suite.db.client.query(`ALTER TABLE public.${table} REPLICA IDENTITY FULL`);
    }
    await reconcileRebuild();
    await expectIndexEqualsDatabase();
    const { schema } = await monitorRun(5);
    expect(schema.replicaIdentityMissing).toBe(0);
    expectCriticalGone();
  });
});
