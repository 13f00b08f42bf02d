import { formatBytes, formatDuration } from "./format";
import type { WalAlert, WalLevel } from "./types";

/** The body shape a webhook receiver expects. */
export type WebhookFormat = "discord" | "slack" | "json";

export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ["discord", "slack", "json"];

/**
 * The format the receiving service speaks, from the URL: Discord webhooks
 * (`discord.com/api/webhooks/...`), Slack incoming webhooks (`hooks.slack.com`), otherwise plain JSON.
 */
export function detectWebhookFormat(url: string): WebhookFormat {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "json";
  }
  const host = parsed.hostname.toLowerCase();
  const isDiscord = /(^|\.)discord(app)?\.com$/.test(host) && parsed.pathname.startsWith("/api/webhooks");
  if (isDiscord) return "discord";
  if (host === "hooks.slack.com") return "slack";
  return "json";
}

const COLORS: Record<WalLevel, number> = {
  ok: 0x2ecc71,
  warning: 0xf1c40f,
  critical: 0xe74c3c,
  lost: 0x992d22,
};

/** One line naming the level and what changed, e.g. `CRITICAL (was WARNING)`. */
export function alertHeadline(alert: WalAlert): string {
  const level = alert.level.toUpperCase();
  const was = alert.previousLevel ? alert.previousLevel.toUpperCase() : null;
  switch (alert.kind) {
    case "recovered":
      return `RECOVERED${was ? ` (was ${was})` : ""}`;
    case "reminder":
      return `${level}, still (since ${formatDuration((Date.parse(alert.at) - Date.parse(alert.since)) / 1000)})`;
    default:
      return was && was !== level ? `${level} (was ${was})` : level;
  }
}

/** The title every format uses. */
export function alertTitle(alert: WalAlert): string {
  if (alert.topic === "schema-drift") {
    const indices = [...new Set((alert.drift?.findings ?? []).map((f) => f.index))];
    const where = indices.length > 0 ? `index ${indices.join(", ")}` : `slot ${alert.slot}`;
    return `slotsync SCHEMA DRIFT ${alertHeadline(alert)}: ${where}`;
  }
  return `slotsync WAL ${alertHeadline(alert)}: slot ${alert.slot}`;
}

/** The facts of an alert as name/value pairs, in display order. */
export function alertFacts(alert: WalAlert): { name: string; value: string }[] {
  if (alert.topic === "schema-drift") return driftFacts(alert);
  const bytes = (n: number | null) => (n === null ? "n/a" : formatBytes(n));
  const t = alert.thresholds;
  const facts = [
    { name: "Retained WAL", value: bytes(alert.retainedBytes) },
    { name: "wal_status", value: alert.walStatusMeaning },
    {
      name: "Active",
      value: alert.active === null ? "n/a" : alert.active ? "yes" : "no (normal between polls)",
    },
    {
      name: "Safe WAL size",
      value: alert.safeWalSizeBytes === null ? "unlimited" : bytes(alert.safeWalSizeBytes),
    },
    { name: "Confirmed-flush lag", value: bytes(alert.confirmedFlushLagBytes) },
    {
      name: "Thresholds",
      value:
        t.source === "none"
          ? "none (set WAL_WARNING_THRESHOLD_GB / WAL_CRITICAL_THRESHOLD_GB or max_slot_wal_keep_size)"
          : `warning ${bytes(t.warningBytes)}, critical ${bytes(t.criticalBytes)} (${t.source})`,
    },
  ];
  if (alert.secondsSinceLastPoll !== null) {
    facts.push({ name: "Last successful poll", value: `${formatDuration(alert.secondsSinceLastPoll)} ago` });
  }
  return facts;
}

/** The drift alert's facts: each finding by index and table, then when and by whom it was seen. */
function driftFacts(alert: WalAlert): { name: string; value: string }[] {
  const drift = alert.drift;
  const facts = (drift?.findings ?? []).slice(0, 10).map((f) => ({
    name: `${f.index} · ${f.table}`,
    value:
      f.kind === "table-missing"
        ? `table missing${f.now ? ` (${f.now})` : ""}`
        : f.kind === "column-missing"
          ? `column ${f.column} missing${f.now ? ` (${f.now})` : ""}`
          : `column ${f.column}: ${f.was} → ${f.now}`,
  }));
  if (drift?.detectedAt)
    facts.push({ name: "Detected", value: `${drift.detectedAt} by the ${drift.source ?? "?"}` });
  facts.push({ name: "Slot", value: alert.slot });
  return facts;
}

function otherFindings(alert: WalAlert): string[] {
  return alert.kind === "recovered"
    ? []
    : alert.findings.slice(1).map((f) => `${f.level.toUpperCase()}: ${f.message}`);
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Discord: `{content, embeds:[{title, description, color, fields}]}`, within Discord's limits. */
export function discordPayload(alert: WalAlert): Record<string, unknown> {
  const description = [
    alert.message,
    alert.recovery ? `**What to do:** ${alert.recovery}` : "",
    ...otherFindings(alert),
  ]
    .filter(Boolean)
    .join("\n\n");
  return {
    username: "slotsync",
    content: cut(`**${alertHeadline(alert)}** slot \`${alert.slot}\`: ${alert.message}`, 2000),
    // A slot name or message must never ping anyone.
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(alertTitle(alert), 256),
        description: cut(description, 4096),
        color: COLORS[alert.level],
        timestamp: alert.at,
        fields: alertFacts(alert)
          .slice(0, 25)
          .map((f) => ({ name: cut(f.name, 256), value: cut(f.value, 1024), inline: f.value.length < 40 })),
      },
    ],
  };
}

/** Slack mrkdwn treats &, < and > as markup. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Slack incoming webhook: `{text, blocks}` (text is the notification fallback). */
export function slackPayload(alert: WalAlert): Record<string, unknown> {
  const body = [
    slackEscape(alert.message),
    alert.recovery ? `*What to do:* ${slackEscape(alert.recovery)}` : "",
    ...otherFindings(alert).map(slackEscape),
  ]
    .filter(Boolean)
    .join("\n\n");
  return {
    text: cut(slackEscape(`${alertTitle(alert)}: ${alert.message}`), 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(alertTitle(alert), 150) } },
      { type: "section", text: { type: "mrkdwn", text: cut(body, 3000) } },
      {
        type: "section",
        fields: alertFacts(alert)
          .slice(0, 10)
          .map((f) => ({ type: "mrkdwn", text: cut(`*${f.name}*\n${slackEscape(f.value)}`, 2000) })),
      },
      { type: "context", elements: [{ type: "mrkdwn", text: `slotsync · ${alert.at}` }] },
    ],
  };
}

/** Any other receiver: the alert itself, plus a one-line `text`. */
export function jsonPayload(alert: WalAlert): Record<string, unknown> {
  return {
    source: "slotsync",
    type: alert.topic === "schema-drift" ? "slotsync.schema-drift" : "slotsync.wal-alert",
    text: `${alertTitle(alert)}: ${alert.message}`,
    ...alert,
  };
}

/** The body for a format. */
export function webhookPayload(format: WebhookFormat, alert: WalAlert): Record<string, unknown> {
  if (format === "discord") return discordPayload(alert);
  if (format === "slack") return slackPayload(alert);
  return jsonPayload(alert);
}
