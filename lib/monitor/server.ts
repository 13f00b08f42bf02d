import type { Queryable } from "../schema";
import type { ServerWal, SlotRow } from "./types";

const SETTINGS_SQL = `
  SELECT current_setting('server_version_num')::int AS version_num,
         (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text
           AS current_lsn,
         (SELECT json_object_agg(name, json_build_object('setting', setting, 'unit', unit))
            FROM pg_settings WHERE name IN ('max_slot_wal_keep_size', 'max_wal_size')) AS settings`;

// wal_status and safe_wal_size exist from PostgreSQL 13; before that the columns are NULL. The byte
// distances are measured from one LSN read once, so every slot is compared with the same position.
function slotsSql(versionNum: number): string {
  const walColumns =
    versionNum >= 130000
      ? "s.wal_status::text AS wal_status, s.safe_wal_size::text AS safe_wal_size"
      : "NULL::text AS wal_status, NULL::text AS safe_wal_size";
  return `
    SELECT s.slot_name::text AS slot_name, s.slot_type::text AS slot_type, s.plugin::text AS plugin,
           s.database::text AS database, s.temporary, s.active, ${walColumns},
           s.restart_lsn::text AS restart_lsn, s.confirmed_flush_lsn::text AS confirmed_flush_lsn,
           pg_wal_lsn_diff($1::pg_lsn, s.restart_lsn)::text AS retained_bytes,
           pg_wal_lsn_diff($1::pg_lsn, s.confirmed_flush_lsn)::text AS flush_lag_bytes
      FROM pg_replication_slots s
     ORDER BY s.slot_name`;
}

interface SettingsRow {
  version_num: number;
  current_lsn: string | null;
  settings: Record<string, { setting: string; unit: string | null }> | null;
}

/**
 * Reads the WAL position, the slot-related settings and every replication slot. Needs no privilege
 * beyond logging in: `pg_replication_slots`, `pg_settings` and `pg_current_wal_lsn()` are public.
 * `db` is the lowest layer: tests may pass any {@link Queryable}.
 */
export async function readServerWal(db: Queryable): Promise<ServerWal> {
  const { rows } = await db.query<SettingsRow>(SETTINGS_SQL);
  const head = rows[0];
  if (!head?.current_lsn) throw new Error("the server did not report its current WAL position");
  const versionNum = Number(head.version_num);
  const slots = await db.query<Record<string, unknown>>(slotsSql(versionNum), [head.current_lsn]);
  return {
    versionNum,
    currentLsn: head.current_lsn,
    maxSlotWalKeepSizeBytes: settingBytes(head.settings?.max_slot_wal_keep_size),
    maxWalSizeBytes: settingBytes(head.settings?.max_wal_size),
    slots: slots.rows.map(slotRow),
  };
}

/** One `pg_replication_slots` row (as {@link readServerWal} selects it) in typed form. */
export function slotRow(row: Record<string, unknown>): SlotRow {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    name: String(row.slot_name),
    slotType: row.slot_type === "physical" ? "physical" : "logical",
    plugin: text(row.plugin),
    database: text(row.database),
    temporary: row.temporary === true,
    active: row.active === true,
    walStatus: text(row.wal_status),
    safeWalSizeBytes: bytes(row.safe_wal_size),
    restartLsn: text(row.restart_lsn),
    confirmedFlushLsn: text(row.confirmed_flush_lsn),
    retainedBytes: bytes(row.retained_bytes),
    confirmedFlushLagBytes: bytes(row.flush_lag_bytes),
  };
}

function bytes(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/**
 * A size setting as `pg_settings` gives it (`setting` in multiples of `unit`, e.g. "16MB" or "8kB")
 * in bytes; null for -1 (unlimited) or an unknown setting.
 */
export function settingBytes(entry: { setting: string; unit: string | null } | undefined): number | null {
  if (!entry) return null;
  const value = Number(entry.setting);
  if (!Number.isFinite(value) || value < 0) return null;
  const match = /^(\d*)\s*(B|kB|MB|GB|TB)$/.exec(entry.unit ?? "B");
  if (!match) return null;
  const multiple = match[1] ? Number(match[1]) : 1;
  return value * multiple * (UNIT_BYTES[match[2] ?? "B"] ?? 1);
}
