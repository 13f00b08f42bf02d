import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { type ConnectionPolicy, readCaBundle } from "../lib/database";

/** The parts of the Lambda context the handlers use (so the CLI and tests can pass their own). */
export interface InvocationContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** One structured JSON logger per function; quiet under tests unless asked. */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? (process.env.VITEST ? "SILENT" : "INFO")) as "INFO",
  });
}

/** Embedded Metric Format metrics under the `slotsync` namespace. */
export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? "slotsync", serviceName });
}

/** The error as a log field: its class, message, fix and whether a retry may help; no stack secrets. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const e = error as Error & { fix?: string; retryable?: boolean; where?: string };
  return { errorName: e.name, errorMessage: e.message, where: e.where, fix: e.fix, retryable: e.retryable };
}

/**
 * How the functions connect to PostgreSQL: the runtime's CA bundle (it holds the Amazon RDS CAs)
 * is trusted next to Node's roots, also when `NODE_EXTRA_CA_CERTS` was not set on the function.
 */
export const DATABASE_POLICY: ConnectionPolicy = { extraCa: readCaBundle() };
