import type { Queryable, ResolvedSchema } from "../schema";
import { compareFingerprint } from "./check";
import { suggestsDrift } from "./classify";
import { SchemaDriftError } from "./errors";
import { readCatalogState, refreshFingerprint, takeFingerprint } from "./fingerprint";
import { findingKey } from "./format";
import {
  type DriftStore,
  parseSchemaRecord,
  pruneSchemaRecords,
  recordName,
  writeSchemaRecord,
} from "./state";
import type { DriftFinding, SchemaDriftRecord, SchemaFingerprint } from "./types";

export interface DriftGuardOptions {
  store: DriftStore;
  slot: string;
  /** Names the process in the recorded drift: `poller`, `consumer`, `run`. */
  source: string;
  /** Least time between two checks when nothing failed (DRIFT_CHECK_MINUTES); 0: every time. */
  intervalMs: number;
  now?: () => number;
}

/**
 * What a check found. `drift`: the database no longer matches the deployed schema (recorded for
 * the monitor). `reload`: it matches the deployed schema, but not the one this process resolved
 * (a type change accepted by a re-index): resolve the schema again before going on.
 */
export type DriftVerdict =
  | { status: "ok" }
  | { status: "drift"; error: SchemaDriftError }
  | { status: "reload"; error: SchemaDriftError };

const OK: DriftVerdict = { status: "ok" };

/**
 * Watches one process's schema for drift. {@link DriftGuard.open} takes the fingerprint of the
 * freshly resolved schema and registers it in the checkpoint store: the first process to run a
 * schema sets the reference (the baseline), so a later type change is found even by a process that
 * resolved after it. `check` compares the baseline and this process's own fingerprint with the
 * catalog, records the drift (or clears it), and accepts type changes once a re-index of every
 * affected index started after the drift was detected.
 */
export class DriftGuard {
  private lastCheck = Number.NEGATIVE_INFINITY;
  private blocked = false;
  private readonly now: () => number;

  private constructor(
    readonly fingerprint: SchemaFingerprint,
    private readonly options: DriftGuardOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Fingerprints `schema` (just resolved) and registers it as the slot's deployed schema. */
  static async open(
    db: Queryable,
    schema: ResolvedSchema,
    schemaHash: string,
    options: DriftGuardOptions,
  ): Promise<DriftGuard> {
    const guard = new DriftGuard(await takeFingerprint(db, schema, schemaHash), options);
    const name = recordName(schemaHash);
    const at = new Date(guard.now()).toISOString();
    const stored = parseSchemaRecord((await options.store.readDrift(options.slot))[name]);
    const record: SchemaDriftRecord = stored
      ? { ...stored, startedAt: at }
      : { v: 1, schemaHash, takenAt: at, startedAt: at, fingerprint: guard.fingerprint, drift: null };
    await writeSchemaRecord(options.store, options.slot, record);
    await pruneSchemaRecords(options.store, options.slot, schemaHash);
    return guard;
  }

  /** True once the interval since the last check has passed, or while drift blocks. */
  due(): boolean {
    return this.blocked || this.now() - this.lastCheck >= this.options.intervalMs;
  }

  /** The periodic check: runs only when {@link due}. */
  async beforeCycle(db: Queryable): Promise<DriftVerdict> {
    return this.due() ? this.check(db) : OK;
  }

  /** After a failure: checks when the error suggests drift (unknown column, table, type …). */
  async afterFailure(db: Queryable, error: unknown): Promise<DriftVerdict> {
    return suggestsDrift(error) ? this.check(db, error) : OK;
  }

  /** Compares with the catalog now, records the outcome, and says whether work may go on. */
  async check(db: Queryable, cause?: unknown): Promise<DriftVerdict> {
    const { store, slot, source } = this.options;
    const name = recordName(this.fingerprint.schemaHash);
    const stored = parseSchemaRecord((await store.readDrift(slot))[name]);
    const baseline = stored?.fingerprint ?? this.fingerprint;
    const catalog = await readCatalogState(db, [...baseline.tables, ...this.fingerprint.tables]);
    const recorded = new Map<string, DriftFinding>();
    for (const f of compareFingerprint(baseline, catalog)) recorded.set(findingKey(f), f);
    // This process's own resolve may hold a table or column the baseline lacks (a node without a
    // column list); its type changes alone are only staleness: see `reload`.
    const own = compareFingerprint(this.fingerprint, catalog);
    for (const f of own) if (f.kind !== "type-changed") recorded.set(findingKey(f), f);
    let findings = [...recorded.values()];
    const at = new Date(this.now()).toISOString();
    let record: SchemaDriftRecord = stored ?? {
      v: 1,
      schemaHash: this.fingerprint.schemaHash,
      takenAt: at,
      startedAt: at,
      fingerprint: this.fingerprint,
      drift: null,
    };

    if (findings.length > 0 && (await this.reindexedSince(findings, record))) {
      // Type changes only, and each affected index is being re-indexed since: the new types are
      // the reference from now on.
      record = { ...record, fingerprint: refreshFingerprint(record.fingerprint, catalog), drift: null };
      findings = [];
    }
    this.lastCheck = this.now();
    if (findings.length > 0) {
      record = {
        ...record,
        drift: { findings, detectedAt: record.drift?.detectedAt ?? at, checkedAt: at, source },
      };
      await writeSchemaRecord(store, slot, record);
      this.blocked = true;
      return { status: "drift", error: new SchemaDriftError(findings, cause === undefined ? {} : { cause }) };
    }
    if (stored?.drift || !stored || stored.fingerprint !== record.fingerprint) {
      await writeSchemaRecord(store, slot, { ...record, drift: null });
    }
    const stale = own.filter((f) => f.kind === "type-changed");
    if (stale.length > 0) {
      this.blocked = true;
      return { status: "reload", error: new SchemaDriftError(stale, cause === undefined ? {} : { cause }) };
    }
    this.blocked = false;
    return OK;
  }

  /** True when every finding is a type change and every affected index began a re-index since detection. */
  private async reindexedSince(
    findings: readonly DriftFinding[],
    record: SchemaDriftRecord,
  ): Promise<boolean> {
    const { store, slot } = this.options;
    if (!record.drift || !store.listBootstraps || !store.readBootstrap) return false;
    if (findings.some((f) => f.kind !== "type-changed")) return false;
    const since = Date.parse(record.drift.detectedAt);
    const pending = new Set(findings.map((f) => f.index));
    for (const id of await store.listBootstraps(slot)) {
      if (pending.size === 0) break;
      const progress = await store.readBootstrap(slot, id);
      if (!progress || Date.parse(progress.startedAt) < since) break; // newest first: the rest are older
      pending.delete(progress.index);
    }
    return pending.size === 0;
  }
}

/**
 * A process whose schema does not resolve any more (a table or column is gone) has no model to
 * fingerprint: compare the fingerprint stored for the same schema with the catalog instead.
 * Returns the drift (recorded, and this schema marked as the deployed one), or undefined when the
 * schema never resolved before or the catalog matches (then the resolve error stands on its own).
 */
export async function driftAtStart(
  db: Queryable,
  schemaHash: string,
  options: Omit<DriftGuardOptions, "intervalMs">,
  cause?: unknown,
): Promise<SchemaDriftError | undefined> {
  const { store, slot, source } = options;
  const stored = parseSchemaRecord((await store.readDrift(slot))[recordName(schemaHash)]);
  if (!stored) return undefined;
  const findings = compareFingerprint(
    stored.fingerprint,
    await readCatalogState(db, stored.fingerprint.tables),
  );
  if (findings.length === 0) return undefined;
  const at = new Date((options.now ?? Date.now)()).toISOString();
  await writeSchemaRecord(store, slot, {
    ...stored,
    startedAt: at,
    drift: { findings, detectedAt: stored.drift?.detectedAt ?? at, checkedAt: at, source },
  });
  return new SchemaDriftError(findings, cause === undefined ? {} : { cause });
}
