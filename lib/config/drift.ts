import type { EnvReader } from "./env";

/** How slotsync watches for schema drift (lib/drift). */
export interface DriftConfig {
  /** DRIFT_CHECK_MINUTES (default 5): the poller compares the schema with the catalog this often; 0 before every cycle. */
  checkIntervalMs: number;
  /** DRIFT_RETRY_DELAY_MINUTES (default 30): first wait of a record blocked by drift, doubled per delivery. */
  retryDelaySeconds: number;
  /** SQS_MAX_RECEIVE_COUNT (default 5, the queue's maxReceiveCount): the last delivery dead-letters with reason `schema-drift`. */
  maxReceiveCount: number;
}

/** Reads the drift settings, adding a problem to `r` for each bad one. */
export function readDriftConfig(r: EnvReader): DriftConfig {
  return {
    checkIntervalMs: r.number("DRIFT_CHECK_MINUTES", 5, { min: 0, max: 1440 }) * 60_000,
    retryDelaySeconds: Math.round(r.number("DRIFT_RETRY_DELAY_MINUTES", 30, { min: 0.05, max: 720 }) * 60),
    maxReceiveCount: r.number("SQS_MAX_RECEIVE_COUNT", 5, { min: 1, max: 1000, integer: true }),
  };
}
