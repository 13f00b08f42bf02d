import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PgSlotReader,
  SlotMissingError,
  SlotPluginError,
  type WalChange,
  type WalCommit,
  type WalEvent,
} from "../../lib/slot";
import { createTestDatabase } from "../support/pg";

const suffix = randomBytes(4).toString("hex");
const slot = `slotsync_slot_${suffix}`;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let reader: PgSlotReader;
let conn: pg.Client;

const TABLES = [
  { schema: "public", table: "item" },
  { schema: "public", table: "we ird.na,me" },
];

async function collect(options: { fetchSize?: number; uptoChanges?: number } = {}): Promise<WalEvent[]> {
  const events: WalEvent[] = [];
  for await (const e of reader.peek({ tables: TABLES, ...options })) events.push(e);
  return events;
}

const commits = (events: WalEvent[]) => events.filter((e): e is WalCommit => e.action === "C");
const changes = (events: WalEvent[]) =>
  events.filter((e): e is WalChange => "table" in e && e.action !== "T");

beforeAll(async () => {
  db = await createTestDatabase("slot");
  await db.client.query(`CREATE TABLE item (id bigint PRIMARY KEY, name text)`);
  await db.client.query(`CREATE TABLE "we ird.na,me" (id int PRIMARY KEY)`);
  await db.client.query(`CREATE TABLE ignored (id int PRIMARY KEY)`);
  await db.client.query(`SELECT pg_create_logical_replication_slot($1, 'wal2json')`, [slot]);
  conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  reader = new PgSlotReader(conn, slot);
});

afterAll(async () => {
  await conn?.end();
  await db?.client.query(
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1`,
    [`%${suffix}%`],
  );
  await db?.drop();
});

describe("PgSlotReader", () => {
  it("peeks without consuming, advancing skips exactly the handed-on transactions", async () => {
    for (let t = 1; t <= 3; t++) {
      await db.client.query("INSERT INTO item VALUES ($1, $2)", [t, `t${t}`]);
    }
    await db.client.query("INSERT INTO ignored VALUES (1)");

    const first = await collect();
    const again = await collect();
    expect(again).toEqual(first);
    expect(changes(first).map((c) => c.columns[0]?.value)).toEqual(["1", "2", "3"]);
    expect(changes(first).every((c) => c.table === "item")).toBe(true);

    const [c1, c2] = commits(first);
    if (!c1 || !c2) throw new Error("expected commits");
    await reader.advance(c1.endLsn);
    const afterOne = await collect();
    // The advanced transaction never comes back; the next one is not skipped.
    expect(changes(afterOne).map((c) => c.columns[0]?.value)).toEqual(["2", "3"]);
    expect((await reader.info()).confirmedFlushLsn).toBe(c1.endLsn);

    // Advancing only to the commit record's start does not pass the transaction.
    await reader.advance(c2.commitLsn);
    expect(changes(await collect()).map((c) => c.columns[0]?.value)).toEqual(["2", "3"]);

    const last = commits(afterOne).at(-1);
    if (!last) throw new Error("expected a commit");
    await reader.advance(last.endLsn);
    expect(await collect()).toEqual([]);
  });

  it("frames every change between B and C of its transaction, with the same commit LSNs", async () => {
    await db.client.query("BEGIN");
    await db.client.query("UPDATE item SET name = 'x' WHERE id = 1");
    await db.client.query(`INSERT INTO "we ird.na,me" VALUES (7)`);
    await db.client.query("DELETE FROM item WHERE id = 2");
    await db.client.query("COMMIT");
    const events = await collect();
    expect(events.map((e) => e.action)).toEqual(["B", "U", "I", "D", "C"]);
    const [begin, , weird, del, commit] = events;
    if (begin?.action !== "B" || commit?.action !== "C" || weird?.action !== "I" || del?.action !== "D") {
      throw new Error("unexpected frame");
    }
    expect(begin.commitLsn).toBe(commit.commitLsn);
    expect(begin.endLsn).toBe(commit.endLsn);
    expect(commit.endLsn > commit.commitLsn).toBe(true);
    expect(weird.table).toBe("we ird.na,me");
    expect(del.identity).toEqual([{ name: "id", value: "2" }]);
    await reader.advance(commit.endLsn);
  });

  it("streams a transaction larger than the fetch size, and stops at transaction boundaries", async () => {
    await db.client.query("INSERT INTO item SELECT g, 'bulk' FROM generate_series(1000, 5999) g");
    await db.client.query("INSERT INTO item SELECT g, 'small' FROM generate_series(6000, 6009) g");
    const all = await collect({ fetchSize: 700 });
    expect(changes(all)).toHaveLength(5010);
    expect(commits(all)).toHaveLength(2);

    // upto_nchanges is checked only after a whole transaction: the big one comes whole, alone.
    const bounded = await collect({ fetchSize: 700, uptoChanges: 10 });
    expect(commits(bounded)).toHaveLength(1);
    expect(changes(bounded)).toHaveLength(5000);
    const end = commits(all).at(-1)?.endLsn;
    if (end === undefined) throw new Error("expected a commit");
    await reader.advance(end);
  });

  it("says to bootstrap when the slot is missing, and refuses a slot of another plugin", async () => {
    const missing = new PgSlotReader(conn, `slotsync_missing_${suffix}`);
    await expect(missing.info()).rejects.toBeInstanceOf(SlotMissingError);
    await expect(collectFrom(missing)).rejects.toThrow(/does not exist/);
    const err = await missing.info().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlotMissingError);
    expect((err as SlotMissingError).fix).toMatch(/slotsync bootstrap/);

    const other = `slotsync_pgoutput_${suffix}`;
    await db.client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [other]);
    await expect(new PgSlotReader(conn, other).check()).rejects.toBeInstanceOf(SlotPluginError);
  });
});

async function collectFrom(r: PgSlotReader): Promise<WalEvent[]> {
  const events: WalEvent[] = [];
  for await (const e of r.peek({ tables: TABLES })) events.push(e);
  return events;
}
