import { describeFinding } from "../drift";
import { formatBytes, formatDuration } from "./format";
import { type DriftReport, levelRank, type SlotReport, type WalReport, type WalThresholds } from "./types";

/** `check-wal`'s exit code: 0 ok, 1 warning, 2 critical (lost included), 3 could not check. */
export function exitCodeFor(report: WalReport): 0 | 1 | 2 | 3 {
  if (!report.checked || report.level === "unknown") return 3;
  // Schema drift stops the sync: as serious as a critical slot.
  if ((report.drift?.findings.length ?? 0) > 0) return 2;
  if (report.level === "ok") return 0;
  return report.level === "warning" ? 1 : 2;
}

/** CloudWatch metrics of one slot (dimension `Slot`); a value is absent when it does not apply. */
export interface SlotMetrics {
  slot: string;
  metrics: {
    RetainedWalBytes?: number;
    ConfirmedFlushLagBytes?: number;
    /** The schema slot only. */
    SecondsSinceLastPoll?: number;
    /** 0 ok, 1 warning, 2 critical, 3 lost. */
    WalStatusLevel: number;
  };
}

/** The numbers to publish per slot (the Lambda writes them in Embedded Metric Format). */
export function walMetrics(report: WalReport): SlotMetrics[] {
  return report.slots.map((slot) => {
    const metrics: SlotMetrics["metrics"] = { WalStatusLevel: levelRank(slot.level) };
    if (slot.retainedBytes !== null) metrics.RetainedWalBytes = slot.retainedBytes;
    if (slot.confirmedFlushLagBytes !== null) metrics.ConfirmedFlushLagBytes = slot.confirmedFlushLagBytes;
    const age = slot.sync?.secondsSinceLastSuccess;
    if (age !== undefined && age !== null) metrics.SecondsSinceLastPoll = Math.round(age);
    return { slot: slot.name, metrics };
  });
}

const bytes = (n: number | null | undefined) => (n === null || n === undefined ? "n/a" : formatBytes(n));

function version(num: number): string {
  return num >= 100000
    ? `${Math.floor(num / 10000)}.${num % 10000}`
    : `${Math.floor(num / 10000)}.${Math.floor(num / 100) % 100}.${num % 100}`;
}

function thresholdText(t: WalThresholds): string {
  if (t.source === "none") {
    return "none (set WAL_WARNING_THRESHOLD_GB / WAL_CRITICAL_THRESHOLD_GB, or max_slot_wal_keep_size)";
  }
  const from = t.source === "max_slot_wal_keep_size" ? "80% / 95% of max_slot_wal_keep_size" : t.source;
  return `warning ${bytes(t.warningBytes)}, critical ${bytes(t.criticalBytes)} (${from})`;
}

/**
 * A report for a terminal or a cron log: one header line with the time and the overall level, then
 * each slot with its facts and findings. Every finding line starts with its level in capitals, so
 * `grep -E "WARNING|CRITICAL|LOST"` over a log finds them.
 */
export function formatReport(report: WalReport): string {
  const lines: string[] = [];
  const overall = report.level === "unknown" ? "COULD NOT CHECK" : report.level.toUpperCase();
  lines.push(`${report.at} slotsync check-wal: ${overall}`);
  if (!report.checked) {
    lines.push(`  ERROR ${report.error ?? "the server could not be read"}`);
    lines.push("        fix: check PG_URL and that the database is reachable");
    return lines.join("\n");
  }
  const s = report.server;
  if (s) {
    const keep = s.maxSlotWalKeepSizeBytes === null ? "unlimited" : bytes(s.maxSlotWalKeepSizeBytes);
    lines.push(
      `PostgreSQL ${version(s.versionNum)} · current WAL ${s.currentLsn} · max_slot_wal_keep_size ${keep} · max_wal_size ${bytes(s.maxWalSizeBytes)}`,
    );
  }
  if (report.thresholds) lines.push(`thresholds: ${thresholdText(report.thresholds)}`);
  if (report.slots.length === 0) lines.push("", "no replication slots");
  for (const slot of report.slots) lines.push("", ...slotLines(slot));
  if (report.drift) lines.push("", ...driftLines(report.drift));
  if (report.alerts.length > 0) {
    lines.push("");
    for (const a of report.alerts) {
      const to = a.delivered.length > 0 ? ` → ${a.delivered.join(", ")}` : " (no channel configured)";
      const failed = a.failed.length > 0 ? `; FAILED ${a.failed.map((f) => f.channel).join(", ")}` : "";
      const was =
        a.previousLevel && a.previousLevel !== a.level ? ` (was ${a.previousLevel.toUpperCase()})` : "";
      const headline = `${a.level.toUpperCase()}${was}`;
      const topic = a.topic === "schema-drift" ? "schema drift " : "";
      lines.push(`alert ${topic}${a.kind}: ${headline} for slot ${a.slot}${to}${failed}`);
    }
  }
  for (const problem of report.problems) lines.push(`PROBLEM ${problem}`);
  return lines.join("\n");
}

function slotLines(slot: SlotReport): string[] {
  const kind = slot.exists
    ? [slot.slotType, slot.plugin, slot.database ? `database ${slot.database}` : null]
        .filter(Boolean)
        .join(", ")
    : "missing";
  const lines = [
    `slot ${slot.name}${slot.isSchemaSlot ? " (schema slot)" : ""} [${kind}]: ${slot.level.toUpperCase()}`,
  ];
  const row = (name: string, value: string) => lines.push(`  ${name.padEnd(21)}${value}`);
  if (slot.exists) {
    const growth =
      slot.retainedBytes !== null && slot.previousRetainedBytes !== null
        ? ` (was ${bytes(slot.previousRetainedBytes)} at the previous check)`
        : "";
    row("retained WAL", `${bytes(slot.retainedBytes)}${growth}`);
    row("wal_status", slot.walStatusMeaning);
    row(
      "active",
      slot.active ? "yes" : slot.isSchemaSlot ? "no (normal for a polled slot between polls)" : "no",
    );
    row("safe_wal_size", slot.safeWalSizeBytes === null ? "unlimited" : bytes(slot.safeWalSizeBytes));
    row("confirmed-flush lag", bytes(slot.confirmedFlushLagBytes));
  }
  const sync = slot.sync;
  if (sync) {
    row(
      "last successful poll",
      sync.secondsSinceLastSuccess === null
        ? "never recorded"
        : `${formatDuration(sync.secondsSinceLastSuccess)} ago (${sync.lastSuccessAt})`,
    );
    const rate = (n: number | null, what: string) => (n === null ? null : `${n} ${what}/s`);
    const rates = [rate(sync.changesPerSecond, "changes"), rate(sync.keysPerSecond, "keys")].filter(Boolean);
    row(
      "poller",
      sync.lagBytesAtLastPoll === null && rates.length === 0
        ? "no stats recorded"
        : [`lag ${bytes(sync.lagBytesAtLastPoll)} at its last poll`, ...rates].join(" · "),
    );
    row("checkpoint", sync.checkpoint ? `${sync.checkpoint.lsn} at ${sync.checkpoint.updatedAt}` : "none");
    const b = sync.bootstrap;
    row(
      "bootstrap",
      b
        ? `${b.bootstrapId} into ${b.index}: ${b.done}/${b.total} ranges done, ${b.running} running, ${b.failed} failed, ${b.documents} documents, ${b.completedAt ? `completed ${b.completedAt}` : `started ${b.startedAt}`}`
        : "none recorded",
    );
  }
  for (const f of slot.findings) {
    const label = f.level.toUpperCase();
    lines.push(`  ${label} ${f.message}`);
    if (f.fix) lines.push(`  ${" ".repeat(label.length)} fix: ${f.fix}`);
  }
  return lines;
}

/** The schema drift section: one CRITICAL line per finding (index, table, column), then the fix. */
function driftLines(drift: DriftReport): string[] {
  if (drift.findings.length === 0) return ["schema drift: none (the database matches the deployed schema)"];
  const lines = [
    `schema drift: ${drift.findings.length} finding${drift.findings.length === 1 ? "" : "s"}, detected ${drift.detectedAt ?? "?"} by the ${drift.source ?? "?"}; the poller hands nothing on until it is fixed`,
  ];
  for (const f of drift.findings) {
    lines.push(`  CRITICAL ${describeFinding(f)}`);
    lines.push(`           fix: ${f.fix}`);
  }
  return lines;
}
