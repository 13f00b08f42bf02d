import type { AlertState, CheckpointStore } from "../checkpoint";
import { DRIFT_FIX, describeFinding, findingKey, readCurrentDrift } from "../drift";
import type { AlertKind, AlertOutcome, DriftReport, SlotReport, WalAlert, WalThresholds } from "./types";
import type { AlertNotifier } from "./webhook";

/** The alert name under which the monitor keeps the schema drift alert's state (per slot). */
export const DRIFT_ALERT_NAME = "schema-drift";

/** What the drift alert remembers: the findings it last told about, to notice new ones. */
interface DriftAlertState extends AlertState {
  findingsKey?: string;
}

/** The deployed schema's drift as recorded in the store (null: nothing recorded for the slot). */
export async function readDriftReport(
  store: Pick<CheckpointStore, "readDrift">,
  slot: string,
): Promise<DriftReport | null> {
  const current = await readCurrentDrift(store, slot);
  if (!current) return null;
  return {
    schemaHash: current.schemaHash,
    findings: current.drift?.findings ?? [],
    detectedAt: current.drift?.detectedAt ?? null,
    checkedAt: current.drift?.checkedAt ?? null,
    source: current.drift?.source ?? null,
  };
}

/** One line saying what drifted, naming index, table and column. */
export function driftMessage(report: DriftReport): string {
  const [first, ...rest] = report.findings;
  if (!first) return "schema drift resolved: the database matches the deployed schema again";
  const more = rest.length > 0 ? ` (and ${rest.length} more)` : "";
  return `schema drift: ${describeFinding(first)}${more}; the poller stopped, changes wait in the slot`;
}

/**
 * Decides and sends the `schema drift` alert for the schema's slot: raised (critical) when drift
 * appears or its findings change, a reminder every `reminderMs` while it lasts, recovered when it is
 * gone; delivered through the same channels as the WAL alerts. Keeps its state in the store; an
 * alert that reached no configured channel is sent again at the next check.
 */
export async function alertDrift(
  store: Pick<CheckpointStore, "readAlert" | "writeAlert">,
  notifiers: readonly AlertNotifier[],
  report: DriftReport | null,
  ctx: {
    slot: string;
    slotReport: SlotReport | undefined;
    thresholds: WalThresholds;
    now: Date;
    reminderMs: number;
    problems: string[];
  },
): Promise<AlertOutcome | undefined> {
  const stored = (await store.readAlert(ctx.slot, DRIFT_ALERT_NAME)) as DriftAlertState | null;
  const drifting = (report?.findings.length ?? 0) > 0;
  const key = drifting && report ? report.findings.map(findingKey).sort().join("\n") : "";
  const wasDrifting = stored?.level === "critical";
  let kind: AlertKind | null = null;
  if (drifting && (!wasDrifting || stored?.findingsKey !== key)) kind = "raised";
  else if (drifting) {
    const last = stored?.lastNotifiedAt ? Date.parse(stored.lastNotifiedAt) : Number.NaN;
    if (Number.isNaN(last) || ctx.now.getTime() - last >= ctx.reminderMs) kind = "reminder";
  } else if (wasDrifting) kind = "recovered";
  if (kind === null) return undefined;

  const at = ctx.now.toISOString();
  const since = kind === "reminder" && stored ? stored.since : at;
  const alert = buildDriftAlert(report, kind, { ...ctx, since, previous: stored?.level ?? null });
  const outcome: AlertOutcome = {
    slot: ctx.slot,
    topic: "schema-drift",
    kind,
    level: alert.level,
    previousLevel: alert.previousLevel,
    delivered: [],
    failed: [],
  };
  const results = await Promise.allSettled(notifiers.map((n) => n.notify(alert)));
  results.forEach((result, i) => {
    const channel = notifiers[i]?.channel ?? "unknown";
    if (result.status === "fulfilled") outcome.delivered.push(channel);
    else {
      const error = result.reason instanceof Error ? result.reason.message : String(result.reason);
      outcome.failed.push({ channel, error });
      ctx.problems.push(`schema drift alert for slot ${ctx.slot} not delivered to ${channel}: ${error}`);
    }
  });
  if (notifiers.length > 0 && outcome.delivered.length === 0) return outcome;
  const state: DriftAlertState = {
    level: drifting ? "critical" : "ok",
    since,
    lastNotifiedAt: outcome.delivered.length > 0 ? at : (stored?.lastNotifiedAt ?? null),
    message: alert.message,
    findingsKey: key,
  };
  try {
    await store.writeAlert(ctx.slot, DRIFT_ALERT_NAME, state);
  } catch (error) {
    ctx.problems.push(`could not record the schema drift alert of slot ${ctx.slot}: ${String(error)}`);
  }
  return outcome;
}

/** The drift alert as every channel receives it: a WAL-alert-shaped record with `topic` and `drift`. */
export function buildDriftAlert(
  report: DriftReport | null,
  kind: AlertKind,
  ctx: {
    slot: string;
    slotReport: SlotReport | undefined;
    thresholds: WalThresholds;
    now: Date;
    since: string;
    previous: AlertState["level"] | null;
  },
): WalAlert {
  const drift: DriftReport = report ?? {
    schemaHash: "",
    findings: [],
    detectedAt: null,
    checkedAt: null,
    source: null,
  };
  const drifting = kind !== "recovered";
  const slot = ctx.slotReport;
  return {
    slot: ctx.slot,
    isSchemaSlot: true,
    kind,
    level: drifting ? "critical" : "ok",
    previousLevel: ctx.previous,
    since: ctx.since,
    at: ctx.now.toISOString(),
    retainedBytes: slot?.retainedBytes ?? null,
    walStatus: slot?.walStatus ?? null,
    walStatusMeaning: slot?.walStatusMeaning ?? "",
    active: slot?.active ?? null,
    safeWalSizeBytes: slot?.safeWalSizeBytes ?? null,
    confirmedFlushLagBytes: slot?.confirmedFlushLagBytes ?? null,
    secondsSinceLastPoll: slot?.sync?.secondsSinceLastSuccess ?? null,
    thresholds: ctx.thresholds,
    message: driftMessage(drifting ? drift : { ...drift, findings: [] }),
    recovery: drifting ? (drift.findings[0]?.fix ?? DRIFT_FIX) : "",
    findings: drifting
      ? drift.findings.map((f) => ({
          level: "critical" as const,
          code: "schema-drift" as const,
          message: describeFinding(f),
          fix: f.fix,
        }))
      : [],
    topic: "schema-drift",
    drift: drifting ? drift : { ...drift, findings: [] },
  };
}
