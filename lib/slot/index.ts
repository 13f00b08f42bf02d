export { SlotError, SlotLostError, SlotMissingError, SlotPluginError } from "./errors";
export { formatLsn, type Lsn, parseLsn } from "./lsn";
export {
  DEFAULT_FETCH_BYTES,
  fetchCount,
  PgSlotReader,
  type SlotInfo,
  type SlotReader,
  translatePgError,
} from "./reader";
export {
  addTablesOption,
  parseWal2jsonRow,
  type WalBegin,
  type WalChange,
  type WalCommit,
  type WalEvent,
} from "./wal2json";
