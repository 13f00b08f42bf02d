import { SlotsyncError, type SlotsyncErrorOptions } from "../errors";

/** A problem with the logical replication slot. `where` is the slot name. */
export class SlotError extends SlotsyncError {}

/** The slot does not exist: nothing has been bootstrapped, or it was dropped. */
export class SlotMissingError extends SlotError {
  constructor(slot: string, options: SlotsyncErrorOptions = {}) {
    super(`replication slot "${slot}" does not exist`, {
      where: `slot ${slot}`,
      fix: "run `slotsync bootstrap` (or invoke the bootstrap Lambda) to create it and copy the data",
      ...options,
    });
  }
}

/** The WAL the slot needed was removed (`wal_status = lost`): changes were lost, a re-copy is needed. */
export class SlotLostError extends SlotError {
  constructor(slot: string, options: SlotsyncErrorOptions = {}) {
    super(`replication slot "${slot}" is lost: PostgreSQL removed WAL it still needed`, {
      where: `slot ${slot}`,
      fix: "run `slotsync reset` and then `slotsync bootstrap` to re-create the slot and re-copy the data",
      ...options,
    });
  }
}

/** The slot exists but was made with another output plugin. */
export class SlotPluginError extends SlotError {}
