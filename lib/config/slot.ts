import type { SlotsyncConfig } from "./config";

/** The slot used when `SLOTSYNC_SLOT` is unset: the same in the CLI and the CDK stack. */
export const DEFAULT_SLOT_NAME = "slotsync";

/**
 * The replication slot of a deployment (one slot serves every index of the schema): `SLOTSYNC_SLOT`,
 * else {@link DEFAULT_SLOT_NAME}. It depends on configuration alone, so the monitor can name it when
 * the schema file is broken or unreachable. Slot names are per cluster: a second database of the same
 * cluster needs a name of its own. Earlier versions of the CLI defaulted to `slotsync_<database>`;
 * the prerequisite check finds such a slot and says how to keep it.
 */
export function slotName(config: Pick<SlotsyncConfig, "poller">): string {
  return config.poller.slot || DEFAULT_SLOT_NAME;
}
