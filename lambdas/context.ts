import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { METRIC_SELECTIONS, type MetricSelection, type SlotsyncConfig } from "../lib/config";
import { type ConnectionPolicy, readCaBundle } from "../lib/database";
import { publishes } from "./metric-sets";

/** The parts of the Lambda context the handlers use (so the CLI and tests can pass their own). */
export interface InvocationContext {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * Tags every log line of the invocation with its request id and whether it started cold, so one
 * invocation's lines can be found in CloudWatch Logs. Every handler calls it first (through
 * {@link ColdStart.begin}, or itself when it wires per invocation).
 */
export function tagInvocation(logger: Logger, context: InvocationContext, coldStart: boolean): void {
  logger.appendKeys({ requestId: context.awsRequestId, coldStart });
}

/**
 * A handler's cold-start wiring (configuration, secrets, clients), made once per execution
 * environment and reused by later invocations; made again after it failed or after `discard`.
 * `begin` also tags the invocation's log lines ({@link tagInvocation}).
 */
export class ColdStart<W> {
  private wired: Promise<W> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly wire: () => Promise<W>,
  ) {}

  /** The wiring for this invocation. Logs and rethrows a wiring failure (bad configuration). */
  async begin(context: InvocationContext): Promise<W> {
    tagInvocation(this.logger, context, this.wired === undefined);
    this.wired ??= this.wire();
    try {
      return await this.wired;
    } catch (error) {
      this.wired = undefined;
      this.logger.error("configuration is invalid", errorFields(error));
      throw error;
    }
  }

  /** Forgets the wiring: the next invocation wires again (a schema fix, a restored column). */
  discard(): void {
    this.wired = undefined;
  }
}

/** One structured JSON logger per function; quiet under tests unless asked. */
export function createLogger(serviceName: string): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? (process.env.VITEST ? "SILENT" : "INFO")) as "INFO",
  });
}

/** Variables already reported by `warnConfig` in this execution environment. */
const warnedKeys = new Set<string>();

/**
 * Logs each configuration warning (a PGSync variable slotsync does not read) once per execution
 * environment, however many invocations read the configuration again.
 */
export function warnConfig(logger: Logger, config: Pick<SlotsyncConfig, "warnings">): void {
  for (const w of config.warnings) {
    if (warnedKeys.has(w.key)) continue;
    warnedKeys.add(w.key);
    logger.warn(`${w.key} ${w.message}`, { variable: w.key });
  }
}

/**
 * Embedded Metric Format metrics under the `slotsync` namespace, limited to the selection
 * `SLOTSYNC_METRICS` names (lambdas/metric-sets.ts). The value itself is checked with the rest of
 * the configuration at cold start (`loadConfig`), which names it when it is not one of them.
 */
export function createMetrics(serviceName: string, env: NodeJS.ProcessEnv = process.env): Metrics {
  const value = env.SLOTSYNC_METRICS ?? "standard";
  const selection = (METRIC_SELECTIONS as readonly string[]).includes(value)
    ? (value as MetricSelection)
    : "standard";
  return new SelectedMetrics(
    { namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "slotsync", serviceName },
    selection,
  );
}

/** Powertools metrics that drop what the selection does not publish. */
class SelectedMetrics extends Metrics {
  constructor(
    options: ConstructorParameters<typeof Metrics>[0],
    private readonly selection: MetricSelection,
  ) {
    super(options);
  }

  override addMetric(...args: Parameters<Metrics["addMetric"]>): this {
    if (publishes(this.selection, args[0])) super.addMetric(...args);
    return this;
  }
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
