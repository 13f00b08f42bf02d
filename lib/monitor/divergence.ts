import type { AlertState, CheckpointStore } from "../checkpoint";
import type { DocumentBuilder } from "../document";
import { type ReconcileConnection, type VerifyReport, verifyIndex } from "../reconcile";
import type { SearchSink } from "../sink";
import type { DivergenceReport, Finding, IndexDivergence } from "./types";

/** The name under which the monitor keeps the sampled verify's state (per slot, beside its alerts). */
export const DIVERGENCE_STATE_NAME = "documents-diverged";

/** Ids remembered per index for the next check: a bound on the state's size. */
export const MAX_SUSPECTS = 1000;

/** How often and how much the monitor compares (MONITOR_VERIFY_*). */
export interface DivergenceSettings {
  /** Root rows and documents sampled per index and check; 0 turns the check off. */
  sample: number;
  /** Least minutes between two checks (a check runs at the first monitor run after that). */
  everyMinutes: number;
  /** Within one check, what looks wrong is looked at again after this pause. */
  settleMs: number;
}

/** What the check remembers between runs. */
interface DivergenceState extends AlertState {
  checkedAt: string;
  diverged: number;
  /** The last check's result per index, reported again until the next check. */
  indices: IndexDivergence[];
  /** Per index: the ids found wrong last time, looked at again next time. */
  suspects: Record<string, string[]>;
}

export interface DivergenceDeps {
  connect(): Promise<ReconcileConnection>;
  /** One per index of the schema; each is compared through the alias named in the schema. */
  builders: readonly DocumentBuilder[];
  sink: SearchSink;
  /** The index or alias compared for a schema index; default the schema's name, the alias. */
  target?: (index: string) => string;
  store: Pick<CheckpointStore, "readAlert" | "writeAlert">;
  slot: string;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** A scheduled check may start up to this much early: the monitor's own schedule jitters. */
const SLACK_MS = 60_000;

/**
 * The monitor's continuous proof that the indices are right: when due, compares a random sample of
 * root rows and documents of every index with what the database builds (`verifyIndex`), and looks
 * again at what the previous check found wrong. A document counts as diverged only when two checks
 * in a row found it wrong, a full check interval apart: a change still on its way through the queue
 * is never counted, a document that stays wrong always is (it stays on the list while it is wrong).
 * When not due, returns the last check's result (`ran: false`), so the metric and the alert keep
 * their value between checks.
 */
export async function checkDivergence(
  deps: DivergenceDeps,
  settings: DivergenceSettings,
): Promise<DivergenceReport> {
  const now = deps.now?.() ?? new Date();
  const stored = (await deps.store.readAlert(deps.slot, DIVERGENCE_STATE_NAME)) as DivergenceState | null;
  const last = stored?.checkedAt ? Date.parse(stored.checkedAt) : Number.NaN;
  const due =
    Number.isNaN(last) || now.getTime() - last >= Math.max(0, settings.everyMinutes * 60_000 - SLACK_MS);
  if (!due) {
    return {
      ran: false,
      checkedAt: stored?.checkedAt ?? null,
      diverged: stored?.diverged ?? 0,
      suspected: 0,
      indices: Array.isArray(stored?.indices) ? stored.indices : [],
    };
  }
  const verify = {
    connect: deps.connect,
    sink: deps.sink,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  };
  const indices: IndexDivergence[] = [];
  const suspects: Record<string, string[]> = {};
  for (const builder of deps.builders) {
    const index = builder.index.spec.index;
    const target = deps.target?.(index) ?? index;
    const before = stored?.suspects?.[index] ?? [];
    const again =
      before.length > 0
        ? await verifyIndex(
            { ...verify, builder },
            { scope: { ids: before }, target, examples: before.length },
          )
        : undefined;
    const sample = await verifyIndex(
      { ...verify, builder },
      {
        scope: settings.sample,
        target,
        settleMs: settings.settleMs,
        examples: 2 * settings.sample,
      },
    );
    const confirmed = new Set(again ? wrongIds(again) : []);
    const fresh = wrongIds(sample).filter((id) => !confirmed.has(id));
    suspects[index] = [...confirmed, ...fresh].slice(0, MAX_SUSPECTS);
    indices.push({
      index,
      compared: sample.compared + (again?.compared ?? 0),
      missing: again?.missing.count ?? 0,
      extra: again?.extra.count ?? 0,
      different: again?.different.count ?? 0,
      diverged: confirmed.size,
      suspected: fresh.length,
      examples: [...confirmed].slice(0, 5),
    });
  }
  const diverged = indices.reduce((n, i) => n + i.diverged, 0);
  const at = now.toISOString();
  const level = diverged > 0 ? "critical" : "ok";
  const state: DivergenceState = {
    level,
    since: stored && stored.level === level ? stored.since : at,
    lastNotifiedAt: null,
    message: divergenceMessage(indices) ?? "the sampled documents equal the database",
    checkedAt: at,
    diverged,
    indices,
    suspects,
  };
  await deps.store.writeAlert(deps.slot, DIVERGENCE_STATE_NAME, state);
  return {
    ran: true,
    checkedAt: at,
    diverged,
    suspected: indices.reduce((n, i) => n + i.suspected, 0),
    indices,
  };
}

function wrongIds(report: VerifyReport): string[] {
  return [...report.missing.examples, ...report.extra.examples, ...report.different.examples];
}

/** One line naming the indices whose documents diverged, with examples; undefined when none did. */
function divergenceMessage(indices: readonly IndexDivergence[]): string | undefined {
  const wrong = indices.filter((i) => i.diverged > 0);
  if (wrong.length === 0) return undefined;
  return wrong
    .map(
      (i) =>
        `index ${i.index}: ${i.diverged} document${i.diverged === 1 ? "" : "s"} still differ from the database after a full check interval (${i.missing} missing, ${i.extra} extra, ${i.different} different; e.g. ${i.examples.join(", ")})`,
    )
    .join("; ");
}

/**
 * The finding that alerts about confirmed divergence (with the schema slot, like the WAL alerts).
 * None when the last check found nothing lasting.
 */
export function divergenceFindings(report: DivergenceReport): Finding[] {
  if (report.diverged === 0) return [];
  const indices = report.indices.filter((i) => i.diverged > 0).map((i) => i.index);
  const message = divergenceMessage(report.indices) ?? "";
  return [
    {
      level: "critical",
      code: "documents-diverged",
      message,
      fix: `see every difference with ${indices.map((i) => `\`slotsync verify --index ${i} --all\``).join(", ")}; look for dead letters (\`slotsync redrive --dry-run\`); repair with \`slotsync reconcile --index <name>\` (missing, extra) or \`slotsync reconcile --rebuild --index <name>\` (different)`,
    },
  ];
}
