import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getServices } from "../support/services";

// PostgreSQL 15 + wal2json as the poller uses them: a logical slot, peeked (never consumed) with
// format-version 2, then advanced explicitly past the last handed-on commit. Everything runs in a
// database of its own, so the decoded stream holds only this test's transactions.

const SUFFIX = randomBytes(4).toString("hex");
const DATABASE = `slotsync_svc_${SUFFIX}`;
const SLOT = `slotsync_svc_${SUFFIX}`;
const TABLE = "item";

/** One wal2json format-version 2 message. */
interface Wal2JsonRow {
  action: "B" | "I" | "U" | "D" | "C" | "M" | "T";
  xid: number;
  lsn: string;
  nextlsn?: string;
  schema?: string;
  table?: string;
  columns?: { name: string; type: string; value: unknown }[];
  identity?: { name: string; type: string; value: unknown }[];
}

/** A row of `pg_logical_slot_peek_changes`: the function's own LSN and xid, and the decoded message. */
interface PeekedRow {
  lsn: string;
  xid: string;
  data: Wal2JsonRow;
}

let admin: pg.Client;
let db: pg.Client;

/** `X/Y` LSN text to a comparable integer. */
function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split("/");
  if (hi === undefined || lo === undefined) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** Column list to a plain object, for readable assertions. */
function values(cols: Wal2JsonRow["columns"]): Record<string, unknown> {
  return Object.fromEntries((cols ?? []).map((c) => [c.name, c.value]));
}

async function peek(): Promise<PeekedRow[]> {
  const res = await db.query<{ lsn: string; xid: string; data: string }>(
    `SELECT lsn::text AS lsn, xid::text AS xid, data
       FROM pg_logical_slot_peek_changes($1, NULL, NULL,
            'format-version', '2', 'include-lsn', '1', 'include-xids', '1')`,
    [SLOT],
  );
  return res.rows.map((r) => ({ lsn: r.lsn, xid: r.xid, data: JSON.parse(r.data) as Wal2JsonRow }));
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

beforeAll(async () => {
  const { url } = getServices().postgres;
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  db = new pg.Client({ connectionString: withDatabase(url, DATABASE) });
  await db.connect();
});

afterAll(async () => {
  if (db) {
    // A slot pins WAL and blocks DROP DATABASE: drop it first, even when a test failed midway.
    await db.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      [SLOT],
    );
    await db.end();
  }
  if (admin) {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  }
});

describe("PostgreSQL with wal2json through pg", () => {
  it("runs with wal_level=logical and has wal2json available", async () => {
    const wal = await db.query<{ wal_level: string }>("SHOW wal_level");
    expect(wal.rows[0]?.wal_level).toBe("logical");
    const version = await db.query<{ num: string }>("SELECT current_setting('server_version_num') AS num");
    expect(Number(version.rows[0]?.num)).toBeGreaterThanOrEqual(150000);
  });

  it("decodes B/I/U/D/C with LSNs and xids, and advancing past a commit skips exactly that transaction", async () => {
    await db.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text NOT NULL, qty int)`);
    const created = await db.query<{ slot_name: string; lsn: string }>(
      "SELECT slot_name, lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'wal2json')",
      [SLOT],
    );
    expect(created.rows[0]?.slot_name).toBe(SLOT);
    const consistentPoint = lsnToBigInt(created.rows[0]?.lsn ?? "");

    // Transaction 1: two inserts. Transaction 2: an update and a delete.
    await db.query("BEGIN");
    await db.query(`INSERT INTO ${TABLE} VALUES (1, 'alpha', 1), (2, 'beta', 2)`);
    await db.query("COMMIT");
    await db.query("BEGIN");
    await db.query(`UPDATE ${TABLE} SET qty = 5, name = 'alpha²' WHERE id = 1`);
    await db.query(`DELETE FROM ${TABLE} WHERE id = 2`);
    await db.query("COMMIT");

    const rows = await peek();
    expect(rows.map((r) => r.data.action)).toEqual(["B", "I", "I", "C", "B", "U", "D", "C"]);
    const [b1, i1, i2, c1, b2, u, d, c2] = rows;
    if (!b1 || !i1 || !i2 || !c1 || !b2 || !u || !d || !c2) throw new Error("unreachable");

    // xids: one per transaction, the same in the message and in the function's own column.
    expect(b1.data.xid).not.toBe(b2.data.xid);
    for (const r of [b1, i1, i2, c1]) expect(r.data.xid).toBe(b1.data.xid);
    for (const r of [b2, u, d, c2]) expect(r.data.xid).toBe(b2.data.xid);
    for (const r of rows) expect(r.xid).toBe(String(r.data.xid));

    // Row contents: inserts carry all columns; with the default replica identity, U and D carry the
    // primary key only in `identity`, and D has no `columns` at all.
    for (const r of [i1, i2, u, d]) {
      expect(r.data.schema).toBe("public");
      expect(r.data.table).toBe(TABLE);
    }
    expect(values(i1.data.columns)).toEqual({ id: 1, name: "alpha", qty: 1 });
    expect(i1.data.columns?.map((c) => c.type)).toEqual(["integer", "text", "integer"]);
    expect(values(i2.data.columns)).toEqual({ id: 2, name: "beta", qty: 2 });
    expect(values(u.data.columns)).toEqual({ id: 1, name: "alpha²", qty: 5 });
    expect(values(u.data.identity)).toEqual({ id: 1 });
    expect(d.data.columns).toBeUndefined();
    expect(values(d.data.identity)).toEqual({ id: 2 });

    // LSNs: B and C both carry the commit record's start (lsn) and end (nextlsn); the function's
    // lsn column for C is that nextlsn; changes come before their commit; all after the slot's start.
    for (const [b, c] of [
      [b1, c1],
      [b2, c2],
    ] as const) {
      expect(b.data.lsn).toBe(c.data.lsn);
      expect(b.data.nextlsn).toBe(c.data.nextlsn);
      expect(c.lsn).toBe(c.data.nextlsn);
      expect(lsnToBigInt(c.data.nextlsn ?? "")).toBeGreaterThan(lsnToBigInt(c.data.lsn));
    }
    const changeLsns = [i1, i2, u, d].map((r) => lsnToBigInt(r.data.lsn));
    expect(changeLsns).toEqual([...changeLsns].sort((a, b) => (a < b ? -1 : 1)));
    expect(changeLsns[0]).toBeGreaterThanOrEqual(consistentPoint);
    expect(lsnToBigInt(i2.data.lsn)).toBeLessThan(lsnToBigInt(c1.data.lsn));
    expect(lsnToBigInt(u.data.lsn)).toBeGreaterThanOrEqual(lsnToBigInt(c1.data.nextlsn ?? ""));
    expect(lsnToBigInt(d.data.lsn)).toBeLessThan(lsnToBigInt(c2.data.lsn));

    // Peeking does not consume: a second peek returns the same stream.
    expect((await peek()).map((r) => r.data)).toEqual(rows.map((r) => r.data));

    // Advance past transaction 1's commit: the next peek starts with transaction 2.
    const adv1 = await db.query<{ end_lsn: string }>(
      "SELECT end_lsn::text AS end_lsn FROM pg_replication_slot_advance($1, $2::pg_lsn)",
      [SLOT, c1.data.nextlsn],
    );
    expect(adv1.rows[0]?.end_lsn).toBe(c1.data.nextlsn);
    const afterFirst = await peek();
    expect(afterFirst.map((r) => r.data)).toEqual([b2, u, d, c2].map((r) => r.data));

    // Advance past transaction 2's commit: nothing is left, and the slot records the position.
    await db.query("SELECT pg_replication_slot_advance($1, $2::pg_lsn)", [SLOT, c2.data.nextlsn]);
    expect(await peek()).toEqual([]);
    const slot = await db.query<{ confirmed_flush_lsn: string; plugin: string; database: string }>(
      `SELECT confirmed_flush_lsn::text AS confirmed_flush_lsn, plugin, database
         FROM pg_replication_slots WHERE slot_name = $1`,
      [SLOT],
    );
    expect(slot.rows[0]).toEqual({
      confirmed_flush_lsn: c2.data.nextlsn,
      plugin: "wal2json",
      database: DATABASE,
    });

    // A later transaction shows up again after the advance.
    await db.query(`INSERT INTO ${TABLE} VALUES (3, 'gamma', 3)`);
    const later = await peek();
    expect(later.map((r) => r.data.action)).toEqual(["B", "I", "C"]);
    expect(values(later[1]?.data.columns)).toEqual({ id: 3, name: "gamma", qty: 3 });

    await db.query("SELECT pg_drop_replication_slot($1)", [SLOT]);
    const left = await db.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [SLOT]);
    expect(left.rowCount).toBe(0);
  });
});
