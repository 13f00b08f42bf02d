import type { AlertState } from "../checkpoint";
import type { Queryable } from "../schema";
import { buildAlert, decideAlert, previousCheck, WAL_ALERT_NAME } from "./alerts";
import { alertDrift, readDriftReport } from "./drift";
import { type ConfiguredThresholds, evaluateSlots, type PreviousCheck, resolveThresholds } from "./evaluate";
import { type MonitorStore, readSyncHealth } from "./health";
import { readServerWal } from "./server";
import type {
  AlertOutcome,
  DriftReport,
  Finding,
  SlotReport,
  SyncHealth,
  WalReport,
  WalThresholds,
} from "./types";
import { type WalLevel, worse } from "./types";
import type { AlertNotifier } from "./webhook";

export interface CheckWalDependencies {
  /** A connection to the source database (any role that can log in). */
  db: Queryable;
  /** Where the poller's stats and the alert state live; without it, no sync health and no alerts. */
  store?: MonitorStore;
  /** Where alerts go (webhook, EventBridge); none: the state is still kept. */
  notifiers?: readonly AlertNotifier[];
  now?: () => Date;
}

export interface CheckWalOptions extends ConfiguredThresholds {
  /** The schema's slot: highlighted, checked for sync health, critical when missing. */
  schemaSlot?: string | null;
  /** Default 10 (MONITOR_STALE_POLL_MINUTES). */
  stalePollMinutes?: number;
  /** Default 60 (ALERT_REMINDER_MINUTES). */
  reminderMinutes?: number;
  /** Which other slots to check; all by default. */
  include?: (slot: string) => boolean;
  /** False: a dry run that neither notifies nor remembers anything. Default true. */
  alert?: boolean;
  /** Findings about the schema's tables and indices, reported (and alerted) with the schema slot. */
  schemaFindings?: readonly Finding[];
}

/**
 * Checks every replication slot (and the schema's slot, also when it is missing): retained WAL
 * against the thresholds, `wal_status`, activity, the poller's health; then notifies on changes of
 * level and keeps each slot's alert state in the store. Never throws for the server or the store:
 * a server that cannot be read gives a report with `checked: false` (exit code 3), store and
 * delivery trouble is listed in `problems`.
 */
export async function checkWal(
  deps: CheckWalDependencies,
  options: CheckWalOptions = {},
): Promise<WalReport> {
  const now = deps.now?.() ?? new Date();
  const schemaSlot = options.schemaSlot ?? null;
  let server: Awaited<ReturnType<typeof readServerWal>>;
  try {
    server = await readServerWal(deps.db);
  } catch (error) {
    return couldNotCheck(error, { now, schemaSlot });
  }
  const thresholds = resolveThresholds(options, server.maxSlotWalKeepSizeBytes);
  const names = new Set(
    server.slots.map((s) => s.name).filter((n) => !options.include || options.include(n)),
  );
  if (schemaSlot !== null) names.add(schemaSlot);
  const problems: string[] = [];

  const stored = new Map<string, AlertState | null>();
  let storeReadable = deps.store !== undefined;
  let sync: { health: SyncHealth | null; error?: string } | undefined;
  if (deps.store) {
    const store = deps.store;
    try {
      const list = [...names];
      const states = await Promise.all(list.map((n) => store.readAlert(n, WAL_ALERT_NAME)));
      for (const [i, n] of list.entries()) stored.set(n, states[i] ?? null);
    } catch (error) {
      storeReadable = false;
      problems.push(`could not read the alert state, so no alerts were sent: ${describe(error)}`);
    }
    if (schemaSlot !== null) {
      try {
        sync = { health: await readSyncHealth(store, schemaSlot, now) };
      } catch (error) {
        sync = { health: null, error: describe(error) };
      }
    }
  }

  const previous = new Map<string, PreviousCheck>();
  for (const [name, state] of stored) {
    const check = previousCheck(state);
    if (check) previous.set(name, check);
  }
  const slots = evaluateSlots({
    server,
    schemaSlot,
    thresholds,
    previous,
    sync,
    stalePollMinutes: options.stalePollMinutes ?? 10,
    ...(options.include ? { include: options.include } : {}),
    ...(options.schemaFindings ? { schemaFindings: options.schemaFindings } : {}),
  });

  const alerts: AlertOutcome[] = [];
  if (deps.store && storeReadable && options.alert !== false) {
    const reminderMs = (options.reminderMinutes ?? 60) * 60_000;
    for (const slot of slots) {
      const outcome = await alertSlot(deps.store, deps.notifiers ?? [], slot, stored.get(slot.name) ?? null, {
        now,
        reminderMs,
        thresholds,
        problems,
      });
      if (outcome) alerts.push(outcome);
    }
  }

  const drift = await checkDrift(deps, schemaSlot, storeReadable && options.alert !== false, {
    slotReport: slots.find((s) => s.name === schemaSlot),
    thresholds,
    now,
    reminderMs: (options.reminderMinutes ?? 60) * 60_000,
    problems,
    alerts,
  });

  const { slots: _rows, ...serverSummary } = server;
  return {
    at: now.toISOString(),
    checked: true,
    level: slots.reduce<WalLevel>((level, s) => worse(level, s.level), "ok"),
    schemaSlot,
    server: serverSummary,
    thresholds,
    slots,
    alerts,
    problems,
    ...(drift === undefined ? {} : { drift }),
  };
}

/**
 * The schema drift the poller and consumers recorded for the schema's slot, and its alert.
 * Undefined when there is no store, no schema slot, or the store could not be read.
 */
async function checkDrift(
  deps: CheckWalDependencies,
  schemaSlot: string | null,
  alert: boolean,
  ctx: {
    slotReport: SlotReport | undefined;
    thresholds: WalThresholds;
    now: Date;
    reminderMs: number;
    problems: string[];
    alerts: AlertOutcome[];
  },
): Promise<DriftReport | null | undefined> {
  const store = deps.store;
  if (!store?.readDrift || schemaSlot === null) return undefined;
  let report: DriftReport | null;
  try {
    report = await readDriftReport({ readDrift: store.readDrift.bind(store) }, schemaSlot);
  } catch (error) {
    ctx.problems.push(`could not read the schema drift state: ${describe(error)}`);
    return undefined;
  }
  if (alert) {
    try {
      const outcome = await alertDrift(store, deps.notifiers ?? [], report, { slot: schemaSlot, ...ctx });
      if (outcome) ctx.alerts.push(outcome);
    } catch (error) {
      ctx.problems.push(`could not decide the schema drift alert: ${describe(error)}`);
    }
  }
  return report;
}

async function alertSlot(
  store: MonitorStore,
  notifiers: readonly AlertNotifier[],
  slot: SlotReport,
  stored: AlertState | null,
  ctx: { now: Date; reminderMs: number; thresholds: WalThresholds; problems: string[] },
): Promise<AlertOutcome | undefined> {
  const decision = decideAlert(slot, stored, ctx.now, ctx.reminderMs);
  let outcome: AlertOutcome | undefined;
  if (decision.kind !== null) {
    const kind = decision.kind;
    const alert = buildAlert(slot, { ...decision, kind }, ctx.thresholds, ctx.now);
    outcome = {
      slot: slot.name,
      kind,
      level: slot.level,
      previousLevel: decision.previousLevel,
      delivered: [],
      failed: [],
    };
    const results = await Promise.allSettled(notifiers.map((n) => n.notify(alert)));
    results.forEach((result, i) => {
      const channel = notifiers[i]?.channel ?? "unknown";
      if (result.status === "fulfilled") outcome?.delivered.push(channel);
      else {
        const error = describe(result.reason);
        outcome?.failed.push({ channel, error });
        ctx.problems.push(`alert for slot ${slot.name} not delivered to ${channel}: ${error}`);
      }
    });
    // Nothing reached anyone although someone was configured: keep the old state, so the next
    // check sends the same change again instead of a reminder much later.
    if (notifiers.length > 0 && outcome.delivered.length === 0) return outcome;
  }
  try {
    await store.writeAlert(slot.name, WAL_ALERT_NAME, decision.state((outcome?.delivered.length ?? 0) > 0));
  } catch (error) {
    ctx.problems.push(`could not record the alert state of slot ${slot.name}: ${describe(error)}`);
  }
  return outcome;
}

/** The report of a check that could not read the server (exit code 3). */
export function couldNotCheck(
  error: unknown,
  options: { now?: Date; schemaSlot?: string | null } = {},
): WalReport {
  return {
    at: (options.now ?? new Date()).toISOString(),
    checked: false,
    error: describe(error),
    level: "unknown",
    schemaSlot: options.schemaSlot ?? null,
    server: null,
    thresholds: null,
    slots: [],
    alerts: [],
    problems: [],
  };
}

/** An error in one line: a slotsync error's own line (with its fix), or name and message. */
function describe(error: unknown): string {
  if (error instanceof Error) {
    const line = (error as Error & { toLine?: () => string }).toLine;
    return typeof line === "function" ? line.call(error) : `${error.message || error.name}`;
  }
  return String(error);
}
