/**
 * Schema drift: when a table or column the schema uses is dropped or renamed, or its type changes,
 * slotsync says so clearly instead of retrying. A fingerprint of what the schema uses (tables,
 * columns, types) is kept per deployed schema in the checkpoint store; the poller checks the
 * catalog against it periodically and after failures, consumers after failures; drift is recorded
 * there for the monitor's `schema drift` alert and `slotsync status`.
 */
export { compareFingerprint } from "./check";
export { driftSqlState, suggestsDrift } from "./classify";
export { SchemaDriftError } from "./errors";
export { readCatalogState, schemaHash, schemaUses, takeFingerprint } from "./fingerprint";
export { DRIFT_FIX, describeFinding, findingKey } from "./format";
export { DriftGuard, driftAtStart } from "./guard";
export { openWatchedSchema, type WatchedSchema } from "./open";
export {
  consumerDriftPort,
  driftDelaySeconds,
  holdDriftedEvent,
  MAX_VISIBILITY_SECONDS,
  type RecordDelayer,
  SqsRecordDelayer,
  splitDrifted,
} from "./records";
export { readCurrentDrift, readSchemaRecords, recordName } from "./state";
export type { DriftFinding } from "./types";
