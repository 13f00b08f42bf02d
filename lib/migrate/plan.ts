/**
 * The take-over from PGSync as a list of steps, each idempotent and recorded when done, so an
 * interrupted migration resumes where it stopped and can be rolled back until the last step.
 */
import type pg from "pg";
import type { AlertState, CheckpointStore } from "../checkpoint";
import { qualifiedName, quoteIdent } from "../schema";
import { PGSYNC_FUNCTION, PGSYNC_VIEW, type PgsyncArtefacts } from "./artefacts";

export type MigrationStep = "backup" | "bootstrap" | "drop-pgsync";

/** What the checkpoint store keeps between runs (under the slotsync slot). */
export interface MigrationProgress {
  v: 1;
  done: MigrationStep[];
  /** Backups made of PGSync's concrete indices: index name -> backup name. */
  backups: Record<string, string>;
}

/** The record's name among the slot's named entries (see lib/bootstrap/record.ts for the pattern). */
const RECORD = "migrate-from-pgsync";

/** Name of the copy kept of PGSync's index until the migration is final. */
export function backupName(index: string): string {
  return `${index}-pgsync-backup`;
}

export async function readProgress(store: CheckpointStore, slot: string): Promise<MigrationProgress> {
  const state = await store.readAlert(slot, RECORD);
  if (state?.message) {
    const parsed = JSON.parse(state.message) as MigrationProgress;
    if (parsed.v === 1) return parsed;
  }
  return { v: 1, done: [], backups: {} };
}

export async function writeProgress(
  store: CheckpointStore,
  slot: string,
  progress: MigrationProgress,
  now: Date,
): Promise<void> {
  const state: AlertState = {
    level: "ok",
    since: now.toISOString(),
    lastNotifiedAt: null,
    message: JSON.stringify(progress),
  };
  await store.writeAlert(slot, RECORD, state);
}

/**
 * The statements that remove PGSync from the database, in order: triggers (so writes stop
 * notifying), the view and the function (unless another PGSync index of the database still uses
 * them), then its slots (which hold WAL back until dropped). Each statement is idempotent.
 */
export function dropStatements(a: PgsyncArtefacts): string[] {
  const sql: string[] = [];
  const shared = a.otherSlots.length === 0;
  if (shared) {
    for (const t of a.triggers) {
      sql.push(
        `DROP TRIGGER IF EXISTS ${quoteIdent(t.name)} ON ${qualifiedName({ schema: t.schema, name: t.table })}`,
      );
    }
    for (const schema of a.views) {
      sql.push(`DROP MATERIALIZED VIEW IF EXISTS ${qualifiedName({ schema, name: PGSYNC_VIEW })}`);
    }
    for (const schema of a.functions) {
      sql.push(`DROP FUNCTION IF EXISTS ${quoteIdent(schema)}.${quoteIdent(PGSYNC_FUNCTION)}()`);
    }
  }
  for (const s of a.slots) {
    sql.push(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${s.name.replaceAll("'", "''")}'`,
    );
  }
  return sql;
}

/** Runs the drop statements in one transaction (the slot drops run after it: they cannot be in one). */
export async function dropPgsync(db: pg.ClientBase, a: PgsyncArtefacts): Promise<string[]> {
  const statements = dropStatements(a);
  const ddl = statements.filter((s) => s.startsWith("DROP "));
  await db.query("BEGIN");
  try {
    for (const s of ddl) await db.query(s);
    await db.query("COMMIT");
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  for (const s of statements.filter((x) => !x.startsWith("DROP "))) await db.query(s);
  return statements;
}

/** The plan in words: what is there, and what each step will do. */
export function describePlan(
  a: PgsyncArtefacts,
  context: { slotsyncSlot: string; done: readonly MigrationStep[] },
): string[] {
  const lines: string[] = [];
  const mark = (step: MigrationStep) => (context.done.includes(step) ? " (done)" : "");
  lines.push(`PGSync artefacts in database ${a.database}:`);
  lines.push(
    a.slots.length > 0
      ? `  replication slots: ${a.slots.map((s) => `${s.name} (${s.plugin}, index ${s.index})`).join(", ")}`
      : "  replication slots: none",
  );
  lines.push(
    `  triggers: ${a.triggers.length > 0 ? `${a.triggers.length} (${a.triggers.map((t) => t.name).join(", ")})` : "none"}`,
  );
  lines.push(`  function ${PGSYNC_FUNCTION}(): ${a.functions.length > 0 ? a.functions.join(", ") : "none"}`);
  lines.push(`  materialized view ${PGSYNC_VIEW}: ${a.views.length > 0 ? a.views.join(", ") : "none"}`);
  for (const i of a.indices) {
    const what =
      i.kind === "concrete"
        ? `a concrete index${i.hasMeta ? " with PGSync's _meta" : ""}`
        : i.kind === "alias"
          ? `an alias of ${i.targets.join(", ")}${i.hasMeta ? " (with PGSync's _meta)" : ""}`
          : "missing";
    lines.push(`  index ${i.name}: ${what}`);
  }
  if (a.otherSlots.length > 0) {
    lines.push(
      `  other PGSync slots of this database: ${a.otherSlots.join(", ")} (their indices still use the triggers, view and function)`,
    );
  }
  lines.push("");
  lines.push("Plan (stop PGSync's daemon first: from step 2 on, slotsync alone writes to the index):");
  const concrete = a.indices.filter((i) => i.kind === "concrete");
  lines.push(
    concrete.length > 0
      ? `  1. backup${mark("backup")}: clone ${concrete.map((i) => `${i.name} to ${backupName(i.name)}`).join(", ")} (write-blocked for the seconds of the clone); kept for --rollback`
      : `  1. backup${mark("backup")}: nothing to copy (no concrete PGSync index)`,
  );
  lines.push(
    `  2. bootstrap${mark("bootstrap")}: slot ${context.slotsyncSlot}, copy every document into a new index; live changes go to both; then one atomic _aliases call removes ${concrete.length > 0 ? concrete.map((i) => i.name).join(", ") : "the old index"} and adds the alias of the same name on the new index: the name the application queries never stops answering`,
  );
  const drops = dropStatements(a);
  lines.push(
    `  3. drop-pgsync${mark("drop-pgsync")}: ${drops.length > 0 ? `${drops.length} statements:` : "nothing left to drop"}`,
  );
  for (const s of drops) lines.push(`       ${s};`);
  if (a.otherSlots.length > 0) {
    lines.push(
      "     (triggers, view and function kept: other PGSync indices of this database still use them)",
    );
  }
  const slotNames = a.slots.map((s) => s.name);
  if (slotNames.length > 0) {
    lines.push(
      `  Left to you (outside the database): PGSync's Redis keys ${slotNames.map((n) => `queue:${n} queue:${n}:meta`).join(" ")} and its checkpoint file${slotNames.length > 1 ? "s" : ""} ${slotNames.map((n) => `.${n}`).join(", ")} in CHECKPOINT_PATH.`,
    );
  }
  lines.push(
    "  Until step 3, `migrate-from-pgsync --rollback` puts PGSync's index back under its name and removes slotsync's slot, index and records.",
  );
  return lines;
}
