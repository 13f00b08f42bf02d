import type pg from "pg";
import { SlotsyncError } from "../errors";
import { SlotError, SlotLostError, SlotMissingError, SlotPluginError } from "./errors";
import { formatLsn, type Lsn, parseLsn } from "./lsn";
import { addTablesOption, parseWal2jsonRow, type WalEvent } from "./wal2json";

/** What `pg_replication_slots` says about a slot. */
export interface SlotInfo {
  name: string;
  plugin: string;
  database: string;
  active: boolean;
  /** reserved | extended | unreserved | lost (PostgreSQL 13+). */
  walStatus: string | null;
  restartLsn: Lsn | null;
  /** Everything before this position has been handed on: the next peek starts here. */
  confirmedFlushLsn: Lsn | null;
  /** Bytes of WAL the server keeps for this slot (`pg_current_wal_lsn() - restart_lsn`). */
  retainedBytes: bigint | null;
  /** Bytes still allowed before the slot is at risk (`safe_wal_size`), null when unlimited. */
  safeWalSize: bigint | null;
}

export interface PeekOptions {
  /** Tables to decode (wal2json `add-tables`); empty means every table. */
  tables: { schema: string; table: string }[];
  /** Rows per FETCH at most. */
  fetchSize?: number;
  /**
   * Bytes per FETCH, about: the row count of each FETCH is sized from the row sizes seen so far,
   * so wide rows (REPLICA IDENTITY FULL with large text columns) are fetched a few at a time and
   * the client holds about this much decoded output whatever the row width. Default 8 MiB.
   */
  fetchBytes?: number;
  /**
   * Stop decoding after the transaction in which this many changes were reached (the server only
   * checks this at transaction boundaries, so one large transaction still comes whole).
   */
  uptoChanges?: number;
  /**
   * Leave out the changes of transaction `xid` at or below `afterLsn` (they were handed on by an
   * earlier run): the server filters them, so a resumed huge transaction is not shipped and parsed
   * again. Its `B` and `C` rows stay. Changes inside one transaction come in LSN order.
   */
  resume?: { xid: number; afterLsn: Lsn };
}

/** Reads a wal2json logical slot with peek (never consuming) and advances it explicitly. */
export interface SlotReader {
  info(): Promise<SlotInfo>;
  /** Streams decoded events without moving the slot. Call `advance` after handing them on. */
  peek(options: PeekOptions): AsyncGenerator<WalEvent>;
  /** Moves the slot so that the next peek starts after `lsn` (a commit's end LSN). */
  advance(lsn: Lsn): Promise<Lsn>;
}

const SLOT_INFO_SQL = `
  SELECT slot_name, plugin, database, active, wal_status,
         restart_lsn::text AS restart_lsn, confirmed_flush_lsn::text AS confirmed_flush_lsn,
         pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS retained_bytes,
         safe_wal_size::text AS safe_wal_size
    FROM pg_replication_slots WHERE slot_name = $1`;

/** Reads one slot through an open `pg` client (the caller owns the connection). */
export class PgSlotReader implements SlotReader {
  constructor(
    private readonly client: pg.ClientBase,
    readonly slot: string,
  ) {}

  async info(): Promise<SlotInfo> {
    const { rows } = await this.client.query(SLOT_INFO_SQL, [this.slot]);
    const row = rows[0] as Record<string, string | boolean | null> | undefined;
    if (!row) throw new SlotMissingError(this.slot);
    const big = (v: unknown) =>
      v === null || v === undefined ? null : BigInt(String(v).split(".")[0] ?? "0");
    return {
      name: String(row.slot_name),
      plugin: String(row.plugin),
      database: String(row.database),
      active: row.active === true,
      walStatus: row.wal_status === null ? null : String(row.wal_status),
      restartLsn: row.restart_lsn ? parseLsn(String(row.restart_lsn)) : null,
      confirmedFlushLsn: row.confirmed_flush_lsn ? parseLsn(String(row.confirmed_flush_lsn)) : null,
      retainedBytes: big(row.retained_bytes),
      safeWalSize: big(row.safe_wal_size),
    };
  }

  /** Checks that the slot can be read: exists, not lost, made with wal2json. */
  async check(): Promise<SlotInfo> {
    const info = await this.info();
    if (info.walStatus === "lost") throw new SlotLostError(this.slot);
    if (info.plugin !== "wal2json") {
      throw new SlotPluginError(
        `replication slot "${this.slot}" uses the ${info.plugin} plugin, not wal2json`,
        {
          where: `slot ${this.slot}`,
          fix: "drop it with `slotsync reset`, or choose another slot name, then bootstrap",
        },
      );
    }
    return info;
  }

  async *peek(options: PeekOptions): AsyncGenerator<WalEvent> {
    const fetchSize = options.fetchSize ?? 5000;
    const fetchBytes = options.fetchBytes ?? DEFAULT_FETCH_BYTES;
    // The first FETCH is small, so one of very wide rows cannot exceed the budget many times over.
    let count = Math.min(fetchSize, FIRST_FETCH_ROWS);
    const cursor = `slotsync_peek_${process.pid}`;
    const params: unknown[] = [this.slot, options.uptoChanges ?? null];
    let extra = "";
    if (options.tables.length > 0) {
      params.push(addTablesOption(options.tables));
      extra = `, 'add-tables', $${params.length}`;
    }
    let where = "";
    if (options.resume) {
      params.push(String(options.resume.xid), formatLsn(options.resume.afterLsn));
      // The B row's lsn column is the transaction's first change, so it is kept by its text.
      where = ` WHERE NOT (xid = $${params.length - 1}::xid AND lsn <= $${params.length}::pg_lsn AND left(data, 13) <> '{"action":"B"')`;
    }
    // A cursor, so the client holds at most `fetchSize` rows whatever the transaction size; the
    // server materialises the decoded output on its side before the first FETCH returns.
    await this.client.query("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY");
    let open = true;
    try {
      await this.client.query(
        `DECLARE ${cursor} NO SCROLL CURSOR FOR
           SELECT data FROM pg_logical_slot_peek_changes($1, NULL, $2,
             'format-version', '2', 'include-lsn', '1', 'include-xids', '1', 'include-timestamp', '1',
             'include-types', '0'${extra})${where}`,
        params,
      );
      for (;;) {
        const { rows } = await this.client.query(`FETCH ${count} FROM ${cursor}`);
        let bytes = 0;
        for (const row of rows as { data: string }[]) bytes += row.data.length;
        const asked = count;
        if (rows.length > 0) count = fetchCount(bytes / rows.length, fetchBytes, fetchSize);
        for (let i = 0; i < rows.length; i++) {
          const data = (rows[i] as { data: string }).data;
          // Dropped as soon as parsed: only the parsed event of the current row stays alive here.
          (rows as unknown[])[i] = undefined;
          const event = parseWal2jsonRow(data);
          if (event.action === "I" || event.action === "U" || event.action === "D") event.bytes = data.length;
          yield event;
        }
        if (rows.length < asked) break;
      }
      await this.client.query("COMMIT");
      open = false;
    } catch (err) {
      throw translatePgError(err, this.slot);
    } finally {
      if (open) await this.client.query("ROLLBACK").catch(() => undefined);
    }
  }

  async advance(lsn: Lsn): Promise<Lsn> {
    try {
      const { rows } = await this.client.query(
        "SELECT end_lsn::text AS end_lsn FROM pg_replication_slot_advance($1, $2::pg_lsn)",
        [this.slot, formatLsn(lsn)],
      );
      const end = (rows[0] as { end_lsn?: string } | undefined)?.end_lsn;
      return end ? parseLsn(end) : lsn;
    } catch (err) {
      throw translatePgError(err, this.slot);
    }
  }
}

/** Default byte budget of one FETCH of decoded changes. */
export const DEFAULT_FETCH_BYTES = 8 * 1024 * 1024;
/** Rows of the first FETCH of a peek, before any row size is known. */
const FIRST_FETCH_ROWS = 64;

/** Rows for the next FETCH: as many rows of `averageBytes` as fit `budget`, from 1 to `max`. */
export function fetchCount(averageBytes: number, budget: number, max: number): number {
  if (!(averageBytes > 0)) return max;
  return Math.max(1, Math.min(max, Math.floor(budget / averageBytes)));
}

/** Turns the server's slot errors into errors that say what to do. */
export function translatePgError(err: unknown, slot: string): Error {
  if (err instanceof SlotsyncError) return err;
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.code === "42704" && /replication slot .* does not exist/.test(message)) {
    return new SlotMissingError(slot, { cause: err });
  }
  if (
    /can no longer get changes from replication slot|has been invalidated|requested WAL segment .* has already been removed/i.test(
      message,
    )
  ) {
    return new SlotLostError(slot, { cause: err });
  }
  if (e.code === "42501") {
    return new SlotError(`permission denied reading replication slot "${slot}": ${message}`, {
      where: `slot ${slot}`,
      cause: err,
      fix: "grant the role REPLICATION (ALTER ROLE <role> WITH REPLICATION) and SELECT on the schema's tables",
    });
  }
  if (e.code === "55006") {
    return new SlotError(`replication slot "${slot}" is in use by another process`, {
      where: `slot ${slot}`,
      cause: err,
      retryable: true,
      fix: "another poller or a replication client holds the slot; it is retried on the next cycle",
    });
  }
  return err instanceof Error ? err : new Error(message);
}
