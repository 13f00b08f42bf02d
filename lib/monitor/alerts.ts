import type { AlertLevel, AlertState } from "../checkpoint";
import type { PreviousCheck } from "./evaluate";
import { formatBytes } from "./format";
import {
  type AlertKind,
  levelRank,
  type SlotReport,
  WAL_LEVELS,
  type WalAlert,
  type WalLevel,
  type WalThresholds,
} from "./types";

/** The alert name under which the monitor keeps each slot's state in the checkpoint store. */
export const WAL_ALERT_NAME = "wal";

/**
 * The monitor's memory of a slot. The store's `level` knows ok / warning / critical only, so a lost
 * slot is stored as critical with `walLevel: "lost"`; the retained bytes and restart LSN of this
 * check let the next one tell an inactive slot that is piling up WAL from one that is moving.
 */
export interface WalAlertState extends AlertState {
  walLevel: WalLevel;
  retainedBytes: number | null;
  restartLsn: string | null;
  checkedAt: string;
}

/** What the previous check left, read back from a stored alert state (null: never checked). */
export function previousCheck(state: AlertState | null): PreviousCheck | undefined {
  if (!state) return undefined;
  const s = state as Partial<WalAlertState> & AlertState;
  const walLevel = WAL_LEVELS.includes(s.walLevel as WalLevel) ? (s.walLevel as WalLevel) : null;
  return {
    level: walLevel ?? s.level,
    retainedBytes: typeof s.retainedBytes === "number" ? s.retainedBytes : null,
    restartLsn: typeof s.restartLsn === "string" ? s.restartLsn : null,
  };
}

/** Whether to notify about a slot now, and what to remember. */
export interface AlertDecision {
  /** Null: nothing to send (unchanged level within the reminder window, or ok all along). */
  kind: AlertKind | null;
  previousLevel: WalLevel | null;
  /** Since when the slot has been at its current level. */
  since: string;
  /** The state to store, given whether a notification reached at least one channel. */
  state(notified: boolean): WalAlertState;
}

/**
 * Notifies on every change of level — ok → warning → critical → lost, any step back, and the
 * recovery to ok — not on every check; while a problem lasts, reminds every `reminderMs`. The first
 * check of a slot notifies only when something is wrong.
 */
export function decideAlert(
  slot: SlotReport,
  stored: AlertState | null,
  now: Date,
  reminderMs: number,
): AlertDecision {
  const previousLevel = previousCheck(stored)?.level ?? null;
  const level = slot.level;
  const changed = previousLevel !== level;
  let kind: AlertKind | null = null;
  if (previousLevel === null) kind = level === "ok" ? null : "raised";
  else if (changed) {
    kind = level === "ok" ? "recovered" : levelRank(level) > levelRank(previousLevel) ? "raised" : "lowered";
  } else if (level !== "ok") {
    const last = stored?.lastNotifiedAt ? Date.parse(stored.lastNotifiedAt) : Number.NaN;
    if (Number.isNaN(last) || now.getTime() - last >= reminderMs) kind = "reminder";
  }
  const at = now.toISOString();
  const since = changed || !stored ? at : stored.since;
  return {
    kind,
    previousLevel,
    since,
    state(notified) {
      const message = slot.findings[0]?.message;
      return {
        level: storeLevel(level),
        since,
        lastNotifiedAt: notified ? at : (stored?.lastNotifiedAt ?? null),
        ...(message === undefined ? {} : { message }),
        walLevel: level,
        retainedBytes: slot.retainedBytes,
        restartLsn: slot.restartLsn,
        checkedAt: at,
      };
    },
  };
}

function storeLevel(level: WalLevel): AlertLevel {
  return level === "lost" ? "critical" : level;
}

/** The notification every channel formats in its own way. */
export function buildAlert(
  slot: SlotReport,
  decision: AlertDecision & { kind: AlertKind },
  thresholds: WalThresholds,
  now: Date,
): WalAlert {
  const worst = slot.findings[0];
  const retained = slot.retainedBytes === null ? "" : `: retained WAL ${formatBytes(slot.retainedBytes)}`;
  const status = slot.walStatus ? ` (wal_status ${slot.walStatus})` : "";
  const message =
    decision.kind === "recovered" || !worst
      ? `slot "${slot.name}" is back to OK${retained}${status}`
      : worst.message;
  return {
    slot: slot.name,
    isSchemaSlot: slot.isSchemaSlot,
    kind: decision.kind,
    level: slot.level,
    previousLevel: decision.previousLevel,
    since: decision.since,
    at: now.toISOString(),
    retainedBytes: slot.retainedBytes,
    walStatus: slot.walStatus,
    walStatusMeaning: slot.walStatusMeaning,
    active: slot.active,
    safeWalSizeBytes: slot.safeWalSizeBytes,
    confirmedFlushLagBytes: slot.confirmedFlushLagBytes,
    secondsSinceLastPoll: slot.sync?.secondsSinceLastSuccess ?? null,
    thresholds,
    message,
    recovery: decision.kind === "recovered" ? "" : (worst?.fix ?? ""),
    findings: slot.findings,
  };
}
