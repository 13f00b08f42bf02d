import type pg from "pg";
import {
  type Lsn,
  PgSlotReader,
  parseLsn,
  SlotMissingError,
  SlotPluginError,
  translatePgError,
} from "../slot";
import { BootstrapError } from "./errors";

/** The slot a bootstrap copies under, and the position a copy starting now is versioned with. */
export interface SlotPosition {
  created: boolean;
  /**
   * The slot's `confirmed_flush_lsn`, read before any copy snapshot is taken: for a new slot its
   * consistent point. Every transaction at or below it was handed on and committed (so a later
   * snapshot sees it); every later one will be handed on with a higher version.
   */
  lsn: Lsn;
}

/**
 * Creates the wal2json slot when it is missing (before any copy, so nothing committed during the
 * copy is missed), or checks the existing one and reads its position.
 */
export async function ensureSlot(client: pg.ClientBase, slot: string): Promise<SlotPosition> {
  const reader = new PgSlotReader(client, slot);
  try {
    const info = await reader.check();
    return { created: false, lsn: confirmed(info.confirmedFlushLsn, slot) };
  } catch (error) {
    if (!(error instanceof SlotMissingError)) throw error;
  }
  try {
    const { rows } = await client.query<{ lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'wal2json')",
      [slot],
    );
    const lsn = rows[0]?.lsn;
    if (!lsn) throw new BootstrapError(`creating slot "${slot}" returned no position`, { where: slot });
    return { created: true, lsn: parseLsn(lsn) };
  } catch (error) {
    // Created meanwhile by a concurrent call: use it as an existing slot.
    if ((error as { code?: string }).code === "42710") return ensureSlot(client, slot);
    throw createError(error, slot);
  }
}

/** The position a copy of an existing slot is versioned with (re-index, resume after a crash). */
export async function readSlotPosition(client: pg.ClientBase, slot: string): Promise<Lsn> {
  const info = await new PgSlotReader(client, slot).check();
  return confirmed(info.confirmedFlushLsn, slot);
}

/** Drops the slot; false when there was none. Retries briefly while a poller holds it. */
export async function dropSlot(
  client: pg.ClientBase,
  slot: string,
  options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<boolean> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await client.query(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
        [slot],
      );
      return rows.length > 0;
    } catch (error) {
      const translated = translatePgError(error, slot);
      if (translated instanceof SlotMissingError) return false;
      // 55006: active — the poller peeks for a few seconds at a time.
      if ((error as { code?: string }).code !== "55006" || attempt >= attempts) throw translated;
      await sleep(500);
    }
  }
}

function confirmed(lsn: Lsn | null, slot: string): Lsn {
  if (lsn === null) {
    throw new BootstrapError(`slot "${slot}" has no confirmed_flush_lsn: it is not a logical slot`, {
      where: `slot ${slot}`,
      fix: "drop it with `slotsync reset` (or choose another SLOTSYNC_SLOT), then bootstrap",
    });
  }
  return lsn;
}

function createError(error: unknown, slot: string): Error {
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  if (e.code === "55000" && /wal_level/.test(message)) {
    return new BootstrapError(`cannot create slot "${slot}": ${message}`, {
      cause: error,
      where: "wal_level",
      fix: "set wal_level = logical (on RDS: rds.logical_replication = 1) and restart PostgreSQL",
    });
  }
  if (e.code === "53400") {
    return new BootstrapError(`cannot create slot "${slot}": ${message}`, {
      cause: error,
      where: "max_replication_slots",
      fix: "raise max_replication_slots (and restart), or drop an unused slot",
    });
  }
  if (e.code === "58P01" || /wal2json/.test(message)) {
    return new SlotPluginError(`cannot create slot "${slot}": ${message}`, {
      cause: error,
      where: `slot ${slot}`,
      fix: "install the wal2json output plugin on the server (Debian: postgresql-15-wal2json; RDS ships it)",
    });
  }
  return translatePgError(error, slot);
}
