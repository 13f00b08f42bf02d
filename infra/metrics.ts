import { Duration } from "aws-cdk-lib";
import { type IMetric, MathExpression, Metric } from "aws-cdk-lib/aws-cloudwatch";

/** The namespace of slotsync's Embedded Metric Format metrics (`POWERTOOLS_METRICS_NAMESPACE`). */
export const METRICS_NAMESPACE = "slotsync";

/** A replication slot name; also what makes it safe to quote in a Metrics Insights query. */
export const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/**
 * A metric a function publishes through Powertools: Powertools adds a `service` dimension
 * (`slotsync-poller`, `slotsync-consumer`, `slotsync-monitor`) to every metric.
 */
export function serviceMetric(
  service: "poller" | "consumer" | "monitor",
  metricName: string,
  options: { label?: string; period?: Duration; statistic?: string } = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: `slotsync-${service}` },
    statistic: options.statistic ?? "Sum",
    period: options.period ?? Duration.minutes(5),
    label: options.label ?? metricName,
  });
}

/**
 * The highest value of a per-slot metric (`SecondsSinceLastPoll`, `ConfirmedFlushLagBytes`,
 * `RetainedWalBytes`, `WalStatusLevel`) as a Metrics Insights query. The query matches the `Slot`
 * dimension whatever other dimensions the publisher adds (Powertools' `service`, for one), so the
 * alarms do not depend on which function reports the number.
 */
export function slotMetric(
  metricName: string,
  slot: string,
  options: { label?: string; period?: Duration } = {},
): IMetric {
  if (!SLOT_NAME.test(slot))
    throw new Error(`slot name "${slot}" must be 1-63 lower-case letters, digits or _`);
  if (!/^[A-Za-z]+$/.test(metricName)) throw new Error(`metric name "${metricName}" must be letters only`);
  return new MathExpression({
    expression: `SELECT MAX(${metricName}) FROM ${METRICS_NAMESPACE} WHERE Slot = '${slot}'`,
    usingMetrics: {},
    period: options.period ?? Duration.minutes(5),
    label: options.label ?? metricName,
  });
}

/** Bytes in one GiB, for turning the GiB thresholds into the byte metrics' units. */
export const GIB = 1024 ** 3;
