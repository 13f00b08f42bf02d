/**
 * The WAL monitor: retained WAL, `wal_status` and activity of every replication slot, the sync's
 * own health from the checkpoint store, alerts on changes of level (webhook in the receiver's
 * format, EventBridge events) and the numbers for CloudWatch alarms.
 */
export { decideAlert, previousCheck, type WalAlertState } from "./alerts";
export { type CheckWalOptions, checkWal, couldNotCheck } from "./check";
export { DIVERGENCE_STATE_NAME, type DivergenceSettings } from "./divergence";
export { alertDrift, buildDriftAlert } from "./drift";
export { AlertDeliveryError } from "./errors";
export { resolveThresholds, walStatusMeaning } from "./evaluate";
export { DRIFT_EVENT_DETAIL_TYPE, EVENT_DETAIL_TYPE, EVENT_SOURCE, EventBridgeNotifier } from "./eventbridge";
export { formatBytes, formatDuration } from "./format";
export { firstFailedRange, type MonitorStore } from "./health";
export { alertTitle, detectWebhookFormat, discordPayload, jsonPayload, slackPayload } from "./payloads";
export { exitCodeFor, formatReport, walMetrics } from "./report";
export { runSchemaChecks, type SchemaChecks } from "./schema-checks";
export { readServerWal, settingBytes } from "./server";
export { createNotifiers, type MonitorSettings, monitorSettingsFromEnv } from "./settings";
export type { DriftReport, FindingCode, SlotReport, WalAlert, WalReport } from "./types";
export { type AlertNotifier, WebhookNotifier } from "./webhook";
