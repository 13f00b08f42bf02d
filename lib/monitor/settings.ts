import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { type AlertConfig, type Env, EnvReader } from "../config";
import type { DivergenceSettings } from "./divergence";
import { EventBridgeNotifier } from "./eventbridge";
import { detectWebhookFormat, WEBHOOK_FORMATS, type WebhookFormat } from "./payloads";
import { type AlertNotifier, WebhookNotifier, type WebhookNotifierOptions } from "./webhook";

/** How the monitor judges and where it sends alerts. */
export interface MonitorSettings {
  /** WAL_WARNING_THRESHOLD_GB / WAL_CRITICAL_THRESHOLD_GB in bytes; derived from the server when unset. */
  warningBytes: bigint | undefined;
  criticalBytes: bigint | undefined;
  /** ALERT_WEBHOOK_URL (secret) and the format (ALERT_WEBHOOK_FORMAT, or detected from the URL). */
  webhook: { url: string; format: WebhookFormat } | undefined;
  /** ALERT_EVENT_BUS; undefined when events are not sent. */
  eventBus: string | undefined;
  /** ALERT_REMINDER_MINUTES (default 60): re-notify while a problem lasts. */
  reminderMinutes: number;
  /** MONITOR_STALE_POLL_MINUTES (default 10): a last successful poll older than this is a warning. */
  stalePollMinutes: number;
  /** The sampled verify: MONITOR_VERIFY_SAMPLE, MONITOR_VERIFY_MINUTES, MONITOR_VERIFY_SETTLE_SECONDS. */
  verify: DivergenceSettings;
}

const BUS = /^[A-Za-z0-9._\-/:]{1,1600}$/;

/**
 * The monitor's settings from the environment map, beside the alert settings `loadConfig` already
 * checked. `defaultEventBus` applies when ALERT_EVENT_BUS is unset (the Lambda passes "default"; the
 * CLI passes nothing, so a cron job without AWS credentials sends no events); `none` turns events off.
 * @throws ConfigError naming every bad variable.
 */
export function monitorSettingsFromEnv(
  env: Env,
  alerts: AlertConfig,
  options: { defaultEventBus?: string } = {},
): MonitorSettings {
  const r = new EnvReader(env);
  const explicit = r.string("ALERT_WEBHOOK_FORMAT")?.toLowerCase();
  let format: WebhookFormat | undefined;
  if (explicit !== undefined) {
    if ((WEBHOOK_FORMATS as readonly string[]).includes(explicit)) format = explicit as WebhookFormat;
    else r.problem("ALERT_WEBHOOK_FORMAT", `must be one of ${WEBHOOK_FORMATS.join(", ")}`);
  }
  const bus = r.string("ALERT_EVENT_BUS") ?? options.defaultEventBus;
  const eventBus =
    bus === undefined || ["none", "off", "false"].includes(bus.toLowerCase()) ? undefined : bus;
  if (eventBus !== undefined && !BUS.test(eventBus)) {
    r.problem("ALERT_EVENT_BUS", "must be an EventBridge bus name or ARN, or none");
  }
  const settings: MonitorSettings = {
    warningBytes: alerts.warningBytes,
    criticalBytes: alerts.criticalBytes,
    webhook: alerts.webhookUrl
      ? { url: alerts.webhookUrl, format: format ?? detectWebhookFormat(alerts.webhookUrl) }
      : undefined,
    eventBus,
    reminderMinutes: r.number("ALERT_REMINDER_MINUTES", 60, { min: 1, max: 10_080 }),
    stalePollMinutes: r.number("MONITOR_STALE_POLL_MINUTES", 10, { min: 1, max: 1440 }),
    verify: {
      sample: r.number("MONITOR_VERIFY_SAMPLE", 100, { min: 0, max: 10_000, integer: true }),
      everyMinutes: r.number("MONITOR_VERIFY_MINUTES", 5, { min: 0, max: 10_080 }),
      settleMs: r.number("MONITOR_VERIFY_SETTLE_SECONDS", 5, { min: 0, max: 30 }) * 1000,
    },
  };
  r.throwIfProblems();
  return settings;
}

/** Clients the notifiers use, replaceable in tests. */
export interface NotifierDependencies {
  /** Needed when an event bus is configured. */
  eventBridge?: Pick<EventBridgeClient, "send">;
  webhook?: Omit<WebhookNotifierOptions, "url" | "format">;
}

/** The notifiers the settings ask for: the webhook, then EventBridge. */
export function createNotifiers(settings: MonitorSettings, deps: NotifierDependencies = {}): AlertNotifier[] {
  const notifiers: AlertNotifier[] = [];
  if (settings.webhook) notifiers.push(new WebhookNotifier({ ...deps.webhook, ...settings.webhook }));
  if (settings.eventBus) {
    if (!deps.eventBridge)
      throw new Error("an EventBridge client is needed to send events to ALERT_EVENT_BUS");
    notifiers.push(new EventBridgeNotifier({ client: deps.eventBridge, eventBus: settings.eventBus }));
  }
  return notifiers;
}
