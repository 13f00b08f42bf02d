export { SlotError, SlotLostError, SlotMissingError, SlotPluginError } from "./errors";
export { formatLsn, type Lsn, parseLsn } from "./lsn";
export {
  DEFAULT_FETCH_BYTES,
  fetchCount,
  type PeekOptions,
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
  type WalColumn,
  type WalCommit,
  type WalEvent,
  type WalMessage,
  type WalTruncate,
} from "./wal2json";
