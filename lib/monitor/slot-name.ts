import type { SlotsyncConfig } from "../config";
import { slotName } from "../runtime";
import type { Queryable } from "../schema";

/**
 * The slot the configured schema syncs through, without loading the schema: `SLOTSYNC_SLOT`, or
 * `slotsync_<database>` for the database PG_URL connects to (what the poller and bootstrap use).
 * The monitor must keep working when the schema file is broken or unreachable.
 */
export async function monitoredSlotName(
  config: Pick<SlotsyncConfig, "poller">,
  db: Queryable,
): Promise<string> {
  if (config.poller.slot) return config.poller.slot;
  const { rows } = await db.query<{ database: string }>("SELECT current_database() AS database");
  // slotName reads only `database` (the connected database) from the resolved schema.
  return slotName(config, { database: rows[0]?.database ?? "" });
}
