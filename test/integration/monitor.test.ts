import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { UpstashCheckpointStore } from "../../lib/checkpoint";
import { type CheckWalOptions, checkWal, type WalAlert, WebhookNotifier } from "../../lib/monitor";
import { type HttpListener, startHttpListener } from "../support/http-listener";
import { getServices } from "../support/services";

// The runbook's safe test procedure (seed 000, "Test alerts (safe)") on a throw-away PostgreSQL
// cluster of its own: WAL is server-wide, so on the shared server other suites' writes would move
// every slot's retained WAL under our thresholds; and a slot can only be made `lost` safely where
// no other suite's slot lives. 1 MB WAL segments keep the volumes small.

const BIN = "/usr/lib/postgresql/15/bin";
const MB = 1024 ** 2;
const SUFFIX = randomBytes(4).toString("hex");
const DEADLINE_MS = 30_000;

interface Cluster {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** initdb + postgres as the `postgres` account (PostgreSQL refuses root), on a free loopback port. */
async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "slotsync-monitor-pg-"));
  const asRoot = process.getuid?.() === 0;
  const account = asRoot
    ? {
        uid: Number(execFileSync("id", ["-u", "postgres"]).toString().trim()),
        gid: Number(execFileSync("id", ["-g", "postgres"]).toString().trim()),
      }
    : {};
  const password = randomBytes(12).toString("hex");
  writeFileSync(join(dir, "pw"), `${password}\n`);
  if (account.uid !== undefined) {
    chownSync(dir, account.uid, account.gid as number);
    chownSync(join(dir, "pw"), account.uid, account.gid as number);
  }
  const data = join(dir, "data");
  execFileSync(
    join(BIN, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(dir, "pw")}`, "--wal-segsize=1"],
    { ...account, stdio: "ignore", env: { ...process.env, LC_ALL: "C.UTF-8" } },
  );
  const port = await freePort();
  const args = ["-D", data, "-c", `port=${port}`, "-c", "listen_addresses=127.0.0.1"];
  args.push("-c", `unix_socket_directories=${dir}`, "-c", "wal_level=logical", "-c", "fsync=off");
  args.push("-c", "autovacuum=off", "-c", "shared_buffers=16MB", "-c", "max_wal_size=32MB");
  const log = openSync(join(dir, "postgres.log"), "a");
  const child: ChildProcess = spawn(join(BIN, "postgres"), args, { ...account, stdio: ["ignore", log, log] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`throw-away PostgreSQL did not start (see ${dir}/postgres.log): ${error}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGINT"); // fast shutdown
        const killed = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(killed);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let cluster: Cluster;
let db: pg.Client;
let listener: HttpListener;
let store: UpstashCheckpointStore;

beforeAll(async () => {
  cluster = await startCluster();
  db = new pg.Client({ connectionString: cluster.url });
  await db.connect();
  // Set with ALTER SYSTEM, not on the command line, which would override later changes.
  await setKeepSize("64MB");
  listener = await startHttpListener();
  store = new UpstashCheckpointStore(getServices().upstash);
});

afterAll(async () => {
  await db?.end().catch(() => undefined);
  await cluster?.stop();
  await listener?.close();
});

/** Changes max_slot_wal_keep_size (a reloadable setting) and waits until new sessions see it. */
async function setKeepSize(value: string): Promise<void> {
  await db.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '${value}'`);
  await db.query("SELECT pg_reload_conf()");
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const fresh = new pg.Client({ connectionString: cluster.url });
    await fresh.connect();
    const { rows } = await fresh.query<{ v: string }>(
      "SELECT current_setting('max_slot_wal_keep_size') AS v",
    );
    await fresh.end();
    if (rows[0]?.v === value) return;
    if (Date.now() > deadline) throw new Error(`max_slot_wal_keep_size did not become ${value}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A healthy poller's heartbeat for `slot` at `at`, written under the slot's lease as the poller does. */
async function heartbeat(slot: string, at: Date): Promise<void> {
  const lease = await store.acquire(slot, "test-poller", 60_000);
  if (!lease) throw new Error("lease is taken");
  await store.writeStats(lease, {
    lastPollAt: at.toISOString(),
    lastSuccessAt: at.toISOString(),
    lagBytes: 0,
  });
  await store.release(lease);
}

async function retainedBytes(slot: string): Promise<number> {
  const { rows } = await db.query<{ retained: string }>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  return Number(rows[0]?.retained);
}

async function insertRows(table: string, rows: number): Promise<void> {
  await db.query(`INSERT INTO ${table} (payload) SELECT md5(random()::text) FROM generate_series(1, $1)`, [
    rows,
  ]);
}

describe("the runbook's safe test: warning, critical, no repeat, reminder, recovery", () => {
  const slot = `wal_monitor_${SUFFIX}`;
  const table = `wal_monitor_test_${SUFFIX}`;
  const webhookPath = `/hooks/${SUFFIX}`;
  const start = Date.now();
  const at = (minutes: number) => new Date(start + minutes * 60_000);

  async function check(minutes: number) {
    await heartbeat(slot, at(minutes));
    const notifiers = [new WebhookNotifier({ url: `${listener.url}${webhookPath}`, format: "json" })];
    const options: CheckWalOptions = { schemaSlot: slot, warningBytes: 2 * MB, criticalBytes: 6 * MB };
    return checkWal({ db, store, notifiers, now: () => at(minutes) }, options);
  }
  const sent = () => listener.requests.filter((r) => r.path === webhookPath).map((r) => r.json<WalAlert>());

  afterAll(async () => {
    await db.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await store.reset(slot);
  });

  it("alerts once per change of level and once more as a reminder", async () => {
    await db.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text, created_at timestamptz DEFAULT now())`,
    );
    await insertRows(table, 20_000);
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);

    const quiet = await check(0);
    expect(quiet.slots[0]).toMatchObject({
      name: slot,
      isSchemaSlot: true,
      level: "ok",
      walStatus: "reserved",
    });
    expect(quiet.level).toBe("ok");
    expect(sent()).toEqual([]);

    // The slot stays inactive and keeps everything written after it: retained WAL grows.
    await insertRows(table, 20_000);
    const warning = await check(1);
    expect(warning.slots[0]?.retainedBytes).toBeGreaterThanOrEqual(2 * MB);
    expect(warning.slots[0]?.level).toBe("warning");
    expect(warning.slots[0]?.findings.map((f) => f.code)).toEqual(["retained-warning", "inactive-growing"]);
    expect(sent().map((a) => [a.kind, a.level, a.previousLevel])).toEqual([["raised", "warning", "ok"]]);

    await insertRows(table, 20_000);
    const critical = await check(2);
    expect(critical.slots[0]?.retainedBytes).toBeGreaterThanOrEqual(6 * MB);
    expect(critical.level).toBe("critical");
    expect(sent().map((a) => [a.kind, a.level, a.previousLevel])).toEqual([
      ["raised", "warning", "ok"],
      ["raised", "critical", "warning"],
    ]);
    const alert = sent()[1];
    expect(alert).toMatchObject({
      source: "slotsync",
      type: "slotsync.wal-alert",
      slot,
      isSchemaSlot: true,
      retainedBytes: critical.slots[0]?.retainedBytes,
      thresholds: { warningBytes: 2 * MB, criticalBytes: 6 * MB, source: "environment" },
      walStatus: "reserved",
      active: false,
    });
    expect(alert?.message).toMatch(/^retained WAL [\d.]+ MB is at or above the critical threshold 6 MB$/);

    // Unchanged level within the reminder window: nothing new.
    const same = await check(3);
    expect(same.level).toBe("critical");
    expect(same.alerts).toEqual([]);
    expect(sent()).toHaveLength(2);

    // An hour after the last notification the problem is repeated.
    const reminder = await check(63);
    expect(reminder.alerts.map((a) => a.kind)).toEqual(["reminder"]);
    expect(sent().at(-1)).toMatchObject({ kind: "reminder", level: "critical", since: at(2).toISOString() });

    // Recovery: the slot catches up. Its restart point moves only at a running-transactions record,
    // which a checkpoint writes; then advancing to the current position releases the WAL.
    const before = await retainedBytes(slot);
    await db.query("CHECKPOINT");
    await db.query("SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())", [slot]);
    expect(await retainedBytes(slot)).toBeLessThan(before);
    const recovered = await check(64);
    expect(recovered.level).toBe("ok");
    expect(recovered.slots[0]?.retainedBytes).toBeLessThan(2 * MB);
    expect(sent().map((a) => [a.kind, a.level, a.previousLevel])).toEqual([
      ["raised", "warning", "ok"],
      ["raised", "critical", "warning"],
      ["reminder", "critical", "critical"],
      ["recovered", "ok", "critical"],
    ]);
    expect(sent().at(-1)?.recovery).toBe("");
    expect(await store.readAlert(slot, "wal")).toMatchObject({ level: "ok", walLevel: "ok" });
  });
});

describe("a lost slot, and the way back through reset and bootstrap", () => {
  const slot = `wal_lost_${SUFFIX}`;
  const table = `wal_lost_test_${SUFFIX}`;
  const webhookPath = `/api/webhooks/1/${SUFFIX}`;
  const sent = () => listener.requests.filter((r) => r.path === webhookPath);

  async function check(minutes: number) {
    const now = new Date(Date.now() + minutes * 60_000);
    await heartbeat(slot, now);
    // Discord's format, chosen explicitly since the loopback URL is not discord.com.
    const notifiers = [new WebhookNotifier({ url: `${listener.url}${webhookPath}`, format: "discord" })];
    return checkWal({ db, store, notifiers, now: () => now }, { schemaSlot: slot });
  }

  afterAll(async () => {
    await db.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await setKeepSize("64MB");
    await store.reset(slot);
  });

  it("warns about an unlimited max_slot_wal_keep_size, with the 15-25% advice", async () => {
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
    await setKeepSize("-1");
    const report = await check(0);
    expect(report.thresholds).toEqual({ warningBytes: null, criticalBytes: null, source: "none" });
    expect(report.slots[0]?.level).toBe("warning");
    expect(report.slots[0]?.findings[0]).toMatchObject({
      code: "keep-size-unlimited",
      fix: expect.stringContaining("15-25% of the disk"),
    });
    expect(sent()).toHaveLength(1);
  });

  it("classifies a slot PostgreSQL invalidated as lost, with the reset-then-bootstrap recovery", async () => {
    await setKeepSize("2MB");
    await db.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text)`);
    // Generate WAL past the keep size; the checkpoint removes it and invalidates the slot.
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      await insertRows(table, 20_000);
      await db.query("CHECKPOINT");
      const { rows } = await db.query<{ wal_status: string }>(
        "SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1",
        [slot],
      );
      if (rows[0]?.wal_status === "lost") break;
      if (Date.now() > deadline)
        throw new Error(`slot did not become lost (wal_status ${rows[0]?.wal_status})`);
    }

    const report = await check(1);
    expect(report.thresholds).toEqual({
      warningBytes: Math.floor(2 * MB * 0.8),
      criticalBytes: Math.floor(2 * MB * 0.95),
      source: "max_slot_wal_keep_size",
    });
    expect(report.level).toBe("lost");
    expect(report.slots[0]).toMatchObject({
      name: slot,
      walStatus: "lost",
      retainedBytes: null,
      level: "lost",
    });
    expect(report.slots[0]?.walStatusMeaning).toMatch(/cannot recover/);
    expect(report.alerts).toEqual([
      {
        slot,
        kind: "raised",
        level: "lost",
        previousLevel: "warning",
        delivered: ["webhook:discord"],
        failed: [],
      },
    ]);
    const body = sent()
      .at(-1)
      ?.json<{ content: string; embeds: { title: string; description: string; color: number }[] }>();
    expect(body?.content).toContain(`**LOST (was WARNING)** slot \`${slot}\``);
    expect(body?.embeds[0]?.title).toBe(`slotsync WAL LOST (was WARNING): slot ${slot}`);
    expect(body?.embeds[0]?.description).toContain("run `slotsync reset` then `slotsync bootstrap`");
    expect(body?.embeds[0]?.color).toBe(0x992d22);
    expect(await store.readAlert(slot, "wal")).toMatchObject({ level: "critical", walLevel: "lost" });
  });

  it("reports the dropped slot as missing, then recovers once it exists again", async () => {
    await setKeepSize("64MB");
    await db.query("SELECT pg_drop_replication_slot($1)", [slot]); // what `slotsync reset` does
    const missing = await check(2);
    expect(missing.slots[0]).toMatchObject({ name: slot, exists: false, level: "critical" });
    expect(missing.slots[0]?.findings[0]?.fix).toContain("run `slotsync bootstrap`");
    expect(missing.alerts.map((a) => [a.kind, a.level, a.previousLevel])).toEqual([
      ["lowered", "critical", "lost"],
    ]);

    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]); // bootstrap
    const back = await check(3);
    expect(back.level).toBe("ok");
    expect(back.alerts.map((a) => [a.kind, a.level, a.previousLevel])).toEqual([
      ["recovered", "ok", "critical"],
    ]);
    expect(sent().at(-1)?.json<{ embeds: { title: string }[] }>().embeds[0]?.title).toBe(
      `slotsync WAL RECOVERED (was CRITICAL): slot ${slot}`,
    );
  });
});

describe("the monitor Lambda handler", () => {
  const slot = `wal_lambda_${SUFFIX}`;
  const webhookPath = `/lambda/${SUFFIX}`;

  afterAll(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    await db.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    await store.reset(slot);
  });

  it("checks, alerts and writes one EMF record per slot with the Slot dimension", async () => {
    await db.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
    const { upstash } = getServices();
    const env: Record<string, string> = {
      PG_URL: cluster.url,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      SLOTSYNC_SLOT: slot,
      ALERT_WEBHOOK_URL: `${listener.url}${webhookPath}`,
      ALERT_EVENT_BUS: "none",
      WAL_CRITICAL_THRESHOLD_GB: "0.001", // 1 MiB, the smallest the GB setting takes
      // Powertools writes EMF through the global console in dev mode, where a test can read it.
      POWERTOOLS_DEV: "true",
      POWERTOOLS_METRICS_DISABLED: "false",
      POWERTOOLS_METRICS_NAMESPACE: `slotsync-test-${SUFFIX}`,
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    // The other slots of this cluster belong to finished tests; only ours must remain.
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_replication_slots");
    expect(rows[0]?.n).toBe(1);
    await db.query(`CREATE TABLE lambda_${SUFFIX} (id bigserial PRIMARY KEY, payload text)`);
    await insertRows(`lambda_${SUFFIX}`, 20_000);

    const { handler } = await import("../../lambdas/monitor");
    const result = await handler({}, { awsRequestId: "test", getRemainingTimeInMillis: () => 60_000 });
    expect(result).toMatchObject({
      level: "critical",
      exitCode: 2,
      schemaSlot: slot,
      slots: [{ slot, level: "critical", findings: ["retained-critical", "never-polled"] }],
      alerts: [{ slot, kind: "raised", level: "critical", delivered: ["webhook:json"], failed: [] }],
    });
    expect(listener.requests.filter((r) => r.path === webhookPath)).toHaveLength(1);

    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.Slot === slot);
    expect(emf).toHaveLength(1);
    const record = emf[0] as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } };
    expect(record._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({
        Namespace: `slotsync-test-${SUFFIX}`,
        Dimensions: [expect.arrayContaining(["Slot"])],
        Metrics: expect.arrayContaining([
          { Name: "RetainedWalBytes", Unit: "Bytes" },
          { Name: "ConfirmedFlushLagBytes", Unit: "Bytes" },
          { Name: "WalStatusLevel", Unit: "None" },
        ]),
      }),
    ]);
    expect(record.WalStatusLevel).toBe(2);
    expect(record.RetainedWalBytes).toBeGreaterThanOrEqual(MB);
  });
});
