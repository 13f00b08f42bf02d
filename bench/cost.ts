/**
 * Cost model: the AWS and Upstash cost per million row changes, and the idle and fixed cost per
 * month of each poller mode, for the CDK stack's default settings, from counts measured in the
 * benchmark run. List prices only
 * (us-east-1, no free tiers, no savings plans); each price names its source and the date it was
 * read. They change: re-check them before relying on the result.
 */

export interface Price {
  usd: number;
  unit: string;
  source: string;
  /** When the price was read from the source. */
  asOf: string;
}

/** List prices, us-east-1. */
export const PRICES = {
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: "GB-second, Arm (first 7.5 billion GB-s per month)",
    source: "https://aws.amazon.com/lambda/pricing/",
    asOf: "2026-03",
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: "request",
    source: "https://aws.amazon.com/lambda/pricing/",
    asOf: "2026-03",
  },
  sqsRequest: {
    usd: 0.4 / 1e6,
    unit: "standard-queue request (each 64 KB of payload is one request)",
    source: "https://aws.amazon.com/sqs/pricing/",
    asOf: "2026-03",
  },
  upstashCommand: {
    usd: 0.2 / 1e5,
    unit: "command, pay-as-you-go",
    source: "https://upstash.com/pricing/redis",
    asOf: "2026-04",
  },
  eventBridgeScheduledEvent: {
    usd: 0,
    unit: "scheduled rule invocation (no charge for scheduled events on the default bus)",
    source: "https://aws.amazon.com/eventbridge/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  cloudWatchMetric: {
    usd: 0.3,
    unit: "custom metric per month (first 10,000)",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  cloudWatchAlarm: {
    usd: 0.1,
    unit: "standard-resolution alarm metric per month",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  cloudWatchDashboard: {
    usd: 3,
    unit: "dashboard per month (beyond the account's first 3)",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  kmsKey: {
    usd: 1,
    unit: "customer managed KMS key per month",
    source: "https://aws.amazon.com/kms/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  secret: {
    usd: 0.4,
    unit: "Secrets Manager secret per month",
    source: "https://aws.amazon.com/secrets-manager/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
  natGatewayHour: {
    usd: 0.045,
    unit: "NAT gateway hour (plus $0.045 per GB processed)",
    source: "https://aws.amazon.com/vpc/pricing/",
    asOf: "2026-03 (not re-read for this run: re-check)",
  },
} as const satisfies Record<string, Price>;

/** The CDK stack's defaults that the cost depends on (infra/functions.ts, infra/props.ts). */
export const STACK_DEFAULTS = {
  pollerMemoryMb: 512,
  consumerMemoryMb: 1024,
  monitorMemoryMb: 256,
  pollerInvocationsPerMonth: 60 * 24 * 30,
  monitorInvocationsPerMonth: 12 * 24 * 30,
  /** The event source mapping's pollers long-poll (20 s) even when the queue is empty. */
  idleSqsReceivesPerMonth: 5 * 3 * 60 * 24 * 30,
} as const;

export interface MeasuredCounts {
  /** Row changes committed during the measured window. */
  changes: number;
  consumerInvocations: number;
  consumerMs: number;
  /** SQS API requests, all actions (sends, receives, deletes). */
  sqsRequests: number;
  /** Upstash commands attributable to the changes (total less the idle rate over the window). */
  upstashCommands: number;
  /** Extra poller GB-seconds the changes cost beyond an idle poller (0: the poller runs its full
   * invocation either way). */
  pollerExtraMs: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  usd: number;
}

export interface CostModel {
  perMillionChanges: { lines: CostLine[]; totalUsd: number };
  prices: typeof PRICES;
  assumptions: string[];
}

const money = (v: number) => +v.toFixed(4);

/** A cost line: `quantity` units at `price`. */
const priced = (item: string, quantity: number, price: Price): CostLine => ({
  item,
  quantity,
  usd: quantity * price.usd,
});

/** Applies the price table to measured counts; see the file comment. */
export function costModel(m: MeasuredCounts): CostModel {
  const perChange = 1e6 / Math.max(1, m.changes);
  const gbs = (ms: number, mb: number) => (ms / 1000) * (mb / 1024);
  const consumerGbs = gbs(m.consumerMs, STACK_DEFAULTS.consumerMemoryMb) * perChange;
  const changeLines: CostLine[] = [
    priced("consumer Lambda compute (GB-s)", consumerGbs, PRICES.lambdaArmGbSecond),
    priced("consumer Lambda requests", m.consumerInvocations * perChange, PRICES.lambdaRequest),
    priced(
      "poller Lambda extra compute (GB-s)",
      gbs(m.pollerExtraMs, STACK_DEFAULTS.pollerMemoryMb) * perChange,
      PRICES.lambdaArmGbSecond,
    ),
    priced("SQS requests", m.sqsRequests * perChange, PRICES.sqsRequest),
    priced("Upstash commands", m.upstashCommands * perChange, PRICES.upstashCommand),
  ];
  const total = (lines: CostLine[]) => money(lines.reduce((sum, l) => sum + l.usd, 0));
  const tidy = (lines: CostLine[]) =>
    lines.map((l) => ({ ...l, quantity: Math.round(l.quantity), usd: money(l.usd) }));
  return {
    perMillionChanges: { lines: tidy(changeLines), totalUsd: total(changeLines) },
    prices: PRICES,
    assumptions: [
      "us-east-1 list prices, no free tiers, Arm Lambdas, 30-day month",
      "poller: its runs cost the same with or without changes in latency mode, so the changes add no poller compute; the idle month per mode is bench/economy.ts's",
      `consumer: ${STACK_DEFAULTS.consumerMemoryMb} MB; compute and invocations as measured in the 1,000 changes/s run`,
      "CloudWatch Logs ingestion and data transfer are not included",
    ],
  };
}

/** Hours in the model's 30-day month. */
const MONTH_HOURS = 24 * 30;

/** One mode's variable idle cost per month: compute, requests, SQS, Upstash. */
export interface ModeCosts {
  mode: "economy" | "latency";
  lines: CostLine[];
  totalUsd: number;
}

/** What one idle scheduled poller run costs, measured (economy) or modelled (latency). */
export interface IdleRun {
  mode: "economy" | "latency";
  /** Billed duration of one run. */
  pollerSecondsPerRun: number;
  upstashCommandsPerRun: number;
  /** SQS requests the poller makes per idle run (none: it sends only when it found changes). */
  sqsRequestsPerRun: number;
}

/** Upstash commands of one monitor run (lease-free reads of stats, checkpoint, bootstraps, alerts). */
const MONITOR_UPSTASH_COMMANDS = 6;

/** The variable cost of an idle month in one poller mode, the monitor and the queue's pollers included. */
export function modeIdleCosts(run: IdleRun): ModeCosts {
  const d = STACK_DEFAULTS;
  const runs = d.pollerInvocationsPerMonth;
  const pollerGbs = runs * run.pollerSecondsPerRun * (d.pollerMemoryMb / 1024);
  const monitorGbs = d.monitorInvocationsPerMonth * 1 * (d.monitorMemoryMb / 1024);
  const requests = runs + d.monitorInvocationsPerMonth;
  const upstash = runs * run.upstashCommandsPerRun + d.monitorInvocationsPerMonth * MONITOR_UPSTASH_COMMANDS;
  const sqs = d.idleSqsReceivesPerMonth + runs * run.sqsRequestsPerRun;
  const lines: CostLine[] = [
    priced("poller Lambda compute (GB-s)", pollerGbs, PRICES.lambdaArmGbSecond),
    priced("monitor Lambda compute (GB-s, 1 s a run)", monitorGbs, PRICES.lambdaArmGbSecond),
    priced("poller + monitor Lambda requests", requests, PRICES.lambdaRequest),
    priced("SQS requests (the event source's empty receives, the poller's own)", sqs, PRICES.sqsRequest),
    priced("Upstash commands (poller + monitor)", upstash, PRICES.upstashCommand),
  ];
  const totalUsd = +lines.reduce((sum, l) => sum + l.usd, 0).toFixed(4);
  return {
    mode: run.mode,
    lines: lines.map((l) => ({ ...l, quantity: Math.round(l.quantity), usd: +l.usd.toFixed(4) })),
    totalUsd,
  };
}

/** What a deployment includes that costs the same busy or idle. */
export interface FixedCostOptions {
  /** Alarms the stack creates (infra/alarms.ts ALARM_IDS less those disabled). */
  alarms: number;
  /** Distinct custom metrics the functions publish (name and dimensions). */
  customMetrics: number;
  /** A separate, encrypted topic for critical alarms (a second KMS key). */
  criticalTopic: boolean;
  /** Functions in a VPC reaching AWS and Upstash through one NAT gateway. */
  nat: boolean;
}

/** The fixed monthly costs of a deployment, itemised. */
export function fixedCosts(o: FixedCostOptions): { lines: CostLine[]; totalUsd: number } {
  const keys = o.criticalTopic ? 2 : 1;
  const lines: CostLine[] = [
    { item: "KMS keys (alarm topics)", quantity: keys, usd: keys * PRICES.kmsKey.usd },
    { item: "Secrets Manager secret", quantity: 1, usd: PRICES.secret.usd },
    { item: "CloudWatch alarms", quantity: o.alarms, usd: o.alarms * PRICES.cloudWatchAlarm.usd },
    { item: "CloudWatch dashboard", quantity: 1, usd: PRICES.cloudWatchDashboard.usd },
    priced("CloudWatch custom metrics", o.customMetrics, PRICES.cloudWatchMetric),
    ...(o.nat
      ? [priced("NAT gateway hours (data processed extra)", MONTH_HOURS, PRICES.natGatewayHour)]
      : []),
  ];
  return {
    lines: lines.map((l) => ({ ...l, usd: +l.usd.toFixed(2) })),
    totalUsd: +lines.reduce((sum, l) => sum + l.usd, 0).toFixed(2),
  };
}
