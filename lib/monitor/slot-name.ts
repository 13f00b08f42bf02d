import type { SlotsyncConfig } from "../config";
import { slotName } from "../runtime";
import type { Queryable } from "../schema";

/**
 * The slot the configured schema syncs through, without loading the schema (`SLOTSYNC_SLOT`, or
 * the default): the monitor must keep working when the schema file is broken or unreachable.
 */
export async function monitoredSlotName(
  config: Pick<SlotsyncConfig, "poller">,
  _db?: Queryable,
): Promise<string> {
  return slotName(config);
}
