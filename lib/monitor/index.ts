/**
 * The WAL monitor: retained WAL, `wal_status` and activity of every replication slot, the sync's
 * own health from the checkpoint store, alerts on changes of level (webhook in the receiver's
 * format, EventBridge events) and the numbers for CloudWatch alarms.
 */
export {
  type AlertDecision,
  buildAlert,
  decideAlert,
  previousCheck,
  WAL_ALERT_NAME,
  type WalAlertState,
} from "./alerts";
export { type CheckWalDependencies, type CheckWalOptions, checkWal, couldNotCheck } from "./check";
export {
  checkDivergence,
  DIVERGENCE_STATE_NAME,
  type DivergenceDeps,
  type DivergenceSettings,
  divergenceFindings,
  MAX_SUSPECTS,
} from "./divergence";
export { alertDrift, buildDriftAlert, DRIFT_ALERT_NAME, driftMessage, readDriftReport } from "./drift";
export { AlertDeliveryError } from "./errors";
export {
  type ConfiguredThresholds,
  DERIVED_CRITICAL_SHARE,
  DERIVED_WARNING_SHARE,
  type EvaluateInput,
  evaluateSlots,
  type PreviousCheck,
  resolveThresholds,
  walStatusMeaning,
} from "./evaluate";
export {
  DRIFT_EVENT_DETAIL_TYPE,
  EVENT_DETAIL_TYPE,
  EVENT_SOURCE,
  EventBridgeNotifier,
  type EventBridgeNotifierOptions,
  eventDetail,
} from "./eventbridge";
export { formatBytes, formatDuration } from "./format";
export { firstFailedRange, type MonitorStore, readSyncHealth } from "./health";
export { replicaIdentityFindings } from "./identity";
export {
  alertFacts,
  alertHeadline,
  alertTitle,
  detectWebhookFormat,
  discordPayload,
  jsonPayload,
  slackPayload,
  WEBHOOK_FORMATS,
  type WebhookFormat,
  webhookPayload,
} from "./payloads";
export { exitCodeFor, formatReport, type SlotMetrics, walMetrics } from "./report";
export { runSchemaChecks, type SchemaChecks, type SchemaChecksDeps } from "./schema-checks";
export { readServerWal, settingBytes, slotRow } from "./server";
export {
  createNotifiers,
  type MonitorSettings,
  monitorSettingsFromEnv,
  type NotifierDependencies,
} from "./settings";
export {
  type AlertKind,
  type AlertOutcome,
  type BootstrapSummary,
  type DivergenceReport,
  type DriftReport,
  type Finding,
  type FindingCode,
  type IndexDivergence,
  levelRank,
  type ServerWal,
  type SlotReport,
  type SlotRow,
  type SyncHealth,
  WAL_LEVELS,
  type WalAlert,
  type WalLevel,
  type WalReport,
  type WalThresholds,
  worse,
} from "./types";
export { type AlertNotifier, WebhookNotifier, type WebhookNotifierOptions } from "./webhook";
