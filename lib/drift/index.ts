/**
 * Schema drift: when a table or column the schema uses is dropped or renamed, or its type changes,
 * slotsync says so clearly instead of retrying. A fingerprint of what the schema uses (tables,
 * columns, types) is kept per deployed schema in the checkpoint store; the poller checks the
 * catalog against it periodically and after failures, consumers after failures; drift is recorded
 * there for the monitor's `schema drift` alert and `slotsync status`.
 */
export { compareFingerprint } from "./check";
export { DRIFT_SQLSTATES, driftSqlState, suggestsDrift } from "./classify";
export { SchemaDriftError } from "./errors";
export {
  type CatalogState,
  type CatalogTable,
  readCatalogState,
  refreshFingerprint,
  schemaHash,
  schemaUses,
  takeFingerprint,
} from "./fingerprint";
export { DRIFT_FIX, describeFinding, findingKey, fixFor } from "./format";
export { DriftGuard, type DriftGuardOptions, type DriftVerdict, driftAtStart } from "./guard";
export { type OpenWatchedOptions, openWatchedSchema, type WatchedSchema } from "./open";
export {
  consumerDriftPort,
  type DriftRetrySettings,
  driftDeadLetterReason,
  driftDelaySeconds,
  holdDriftedEvent,
  MAX_VISIBILITY_SECONDS,
  type RecordDelayer,
  receiveCount,
  SqsRecordDelayer,
  splitDrifted,
} from "./records";
export {
  type DriftStore,
  MAX_SCHEMA_RECORDS,
  parseSchemaRecord,
  pruneSchemaRecords,
  readCurrentDrift,
  readSchemaRecords,
  recordName,
  writeSchemaRecord,
} from "./state";
export {
  DRIFT_KINDS,
  type DriftFinding,
  type DriftKind,
  type DriftState,
  type FingerprintColumn,
  type FingerprintTable,
  type SchemaDriftRecord,
  type SchemaFingerprint,
} from "./types";
