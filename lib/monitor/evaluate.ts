import { formatBytes } from "./format";
import type { Finding, ServerWal, SlotReport, SlotRow, SyncHealth, WalThresholds } from "./types";
import { levelRank, type WalLevel, worse } from "./types";

/** Thresholds the operator set, in bytes (WAL_WARNING_THRESHOLD_GB / WAL_CRITICAL_THRESHOLD_GB). */
export interface ConfiguredThresholds {
  warningBytes?: number | bigint | null;
  criticalBytes?: number | bigint | null;
}

/** Share of `max_slot_wal_keep_size` at which a slot is a warning, and critical. */
export const DERIVED_WARNING_SHARE = 0.8;
export const DERIVED_CRITICAL_SHARE = 0.95;

/**
 * The thresholds in force: each configured one wins; a missing one is derived from
 * `max_slot_wal_keep_size` (warning at 80%, critical at 95%), the point where the server will
 * start throwing the slot's WAL away. With an unlimited keep size there is nothing to derive from.
 */
export function resolveThresholds(
  configured: ConfiguredThresholds,
  maxSlotWalKeepSizeBytes: number | null,
): WalThresholds {
  const given = (v: number | bigint | null | undefined) => (v === null || v === undefined ? null : Number(v));
  const warning = given(configured.warningBytes);
  const critical = given(configured.criticalBytes);
  const derive = (share: number) =>
    maxSlotWalKeepSizeBytes === null ? null : Math.floor(maxSlotWalKeepSizeBytes * share);
  const warningBytes = warning ?? derive(DERIVED_WARNING_SHARE);
  const criticalBytes = critical ?? derive(DERIVED_CRITICAL_SHARE);
  const fromEnv = [warning, critical].filter((v) => v !== null).length;
  const derived = [warningBytes, criticalBytes].filter((v) => v !== null).length - fromEnv;
  const source =
    fromEnv === 0 && derived === 0
      ? "none"
      : derived === 0
        ? "environment"
        : fromEnv === 0
          ? "max_slot_wal_keep_size"
          : "mixed";
  return { warningBytes, criticalBytes, source };
}

/** `wal_status` in words (as the runbook explains it). */
export function walStatusMeaning(walStatus: string | null): string {
  switch (walStatus) {
    case "reserved":
      return "reserved: the WAL the slot needs is within max_wal_size (OK)";
    case "extended":
      return "extended: the slot keeps more than max_wal_size, still within max_slot_wal_keep_size (watch it)";
    case "unreserved":
      return "unreserved: the slot keeps more than max_slot_wal_keep_size; its WAL goes at the next checkpoint (act now)";
    case "lost":
      return "lost: PostgreSQL removed WAL the slot still needed; the slot cannot recover (reset required)";
    case null:
      return "unknown (wal_status needs PostgreSQL 13 or later)";
    default:
      return `${walStatus} (not a status this version knows)`;
  }
}

/** What the monitor remembers about a slot from the previous check. */
export interface PreviousCheck {
  level: WalLevel | null;
  retainedBytes: number | null;
  restartLsn: string | null;
}

/** Everything {@link evaluateSlots} needs: no I/O happens in here. */
export interface EvaluateInput {
  server: ServerWal;
  schemaSlot: string | null;
  thresholds: WalThresholds;
  /** By slot name. */
  previous: ReadonlyMap<string, PreviousCheck>;
  /** The schema slot's sync health; `error` when the store could not be read. */
  sync: { health: SyncHealth | null; error?: string } | undefined;
  stalePollMinutes: number;
  /** Slots to report (all by default); the schema slot is always reported. */
  include?: (slot: string) => boolean;
  /**
   * Findings about the schema's tables and indices rather than its slot (replica identity, documents
   * that differ from the database): reported with the schema slot, so they alert the same way.
   */
  schemaFindings?: readonly Finding[];
}

/**
 * Classifies every slot (the schema's slot first, reported as missing when absent). A slot's level
 * is its worst finding; findings come worst first.
 */
export function evaluateSlots(input: EvaluateInput): SlotReport[] {
  const reports: SlotReport[] = [];
  const schemaRow = input.server.slots.find((s) => s.name === input.schemaSlot);
  if (input.schemaSlot !== null) reports.push(evaluateSlot(input, input.schemaSlot, schemaRow));
  for (const row of input.server.slots) {
    if (row.name === input.schemaSlot || (input.include && !input.include(row.name))) continue;
    reports.push(evaluateSlot(input, row.name, row));
  }
  return reports;
}

function evaluateSlot(input: EvaluateInput, name: string, row: SlotRow | undefined): SlotReport {
  const isSchemaSlot = name === input.schemaSlot;
  const previous = input.previous.get(name);
  const findings: Finding[] = row
    ? slotFindings(input, row, isSchemaSlot, previous)
    : [
        {
          level: "critical",
          code: "missing",
          message: `the schema's replication slot "${name}" does not exist`,
          fix: "run `slotsync bootstrap` to create it and copy the data",
        },
      ];
  if (isSchemaSlot && row) findings.push(...syncFindings(input, name, row));
  if (isSchemaSlot) findings.push(...(input.schemaFindings ?? []));
  findings.sort((a, b) => levelRank(b.level) - levelRank(a.level));
  const report: SlotReport = {
    name,
    isSchemaSlot,
    exists: row !== undefined,
    slotType: row?.slotType ?? null,
    plugin: row?.plugin ?? null,
    database: row?.database ?? null,
    active: row?.active ?? null,
    walStatus: row?.walStatus ?? null,
    walStatusMeaning: row ? walStatusMeaning(row.walStatus) : "the slot does not exist",
    retainedBytes: row?.retainedBytes ?? null,
    safeWalSizeBytes: row?.safeWalSizeBytes ?? null,
    confirmedFlushLagBytes: row?.confirmedFlushLagBytes ?? null,
    restartLsn: row?.restartLsn ?? null,
    confirmedFlushLsn: row?.confirmedFlushLsn ?? null,
    previousRetainedBytes: previous?.retainedBytes ?? null,
    level: findings.reduce<WalLevel>((level, f) => worse(level, f.level), "ok"),
    findings,
  };
  if (isSchemaSlot && input.sync?.health) report.sync = input.sync.health;
  return report;
}

function slotFindings(
  input: EvaluateInput,
  row: SlotRow,
  isSchemaSlot: boolean,
  previous: PreviousCheck | undefined,
): Finding[] {
  const q = `'${row.name.replace(/'/g, "''")}'`;
  const drop = `SELECT pg_drop_replication_slot(${q})`;
  if (row.walStatus === "lost") {
    return [
      {
        level: "lost",
        code: "lost",
        message: `slot "${row.name}" is lost: PostgreSQL removed WAL it still needed, so changes in it are gone`,
        fix: isSchemaSlot
          ? "run `slotsync reset` then `slotsync bootstrap` to re-create the slot and re-copy the data"
          : `drop it (${drop}) and re-create it from its consumer, which must re-copy its data`,
      },
    ];
  }
  const findings: Finding[] = [];
  const catchUp = isSchemaSlot
    ? "check the poller (`slotsync status`, its logs and errors) and the search engine; if the slot cannot catch up before it is lost, run `slotsync reset` then `slotsync bootstrap`"
    : `make the consumer of "${row.name}" catch up; if nothing uses the slot any more, drop it: ${drop}`;
  if (row.walStatus === "unreserved") {
    findings.push({
      level: "critical",
      code: "unreserved",
      message: `slot "${row.name}" keeps more WAL than max_slot_wal_keep_size allows (wal_status unreserved): it is lost at the next checkpoint unless it advances`,
      fix: catchUp,
    });
  }
  const { warningBytes, criticalBytes } = input.thresholds;
  const retained = row.retainedBytes;
  if (retained !== null && criticalBytes !== null && retained >= criticalBytes) {
    findings.push({
      level: "critical",
      code: "retained-critical",
      message: `retained WAL ${formatBytes(retained)} is at or above the critical threshold ${formatBytes(criticalBytes)}`,
      fix: catchUp,
    });
  } else if (retained !== null && warningBytes !== null && retained >= warningBytes) {
    findings.push({
      level: "warning",
      code: "retained-warning",
      message: `retained WAL ${formatBytes(retained)} is at or above the warning threshold ${formatBytes(warningBytes)}`,
      fix: catchUp,
    });
  }
  // Inactive is the normal state of a polled slot; inactive while WAL piles up behind a slot that
  // did not move since the last check means nobody is consuming it.
  if (
    !row.active &&
    retained !== null &&
    previous?.retainedBytes != null &&
    retained > previous.retainedBytes &&
    row.restartLsn === previous.restartLsn
  ) {
    findings.push({
      level: "warning",
      code: "inactive-growing",
      message: `slot "${row.name}" is inactive and has not moved since the last check while its retained WAL grew from ${formatBytes(previous.retainedBytes)} to ${formatBytes(retained)}`,
      fix: isSchemaSlot
        ? "the poller is not advancing it: check the poller's errors and logs (`slotsync status`)"
        : `nothing is consuming it: start its consumer, or drop the slot if it is unused (${drop})`,
    });
  }
  if (input.server.maxSlotWalKeepSizeBytes === null) {
    findings.push({
      level: "warning",
      code: "keep-size-unlimited",
      message:
        input.server.versionNum >= 130000
          ? "max_slot_wal_keep_size is -1 (unlimited): a stuck slot can fill the disk"
          : "PostgreSQL before 13 cannot limit the WAL a slot keeps: a stuck slot can fill the disk",
      fix: "set max_slot_wal_keep_size to 15-25% of the disk (e.g. 15GB for a 60 GB disk; in the DB parameter group on RDS)",
    });
  }
  return findings;
}

function syncFindings(input: EvaluateInput, slot: string, row: SlotRow): Finding[] {
  if (!input.sync || row.walStatus === "lost") return [];
  if (input.sync.error !== undefined) {
    return [
      {
        level: "warning",
        code: "store-unreadable",
        message: `could not read the sync's state from the checkpoint store: ${input.sync.error}`,
        fix: "check UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (or SLOTSYNC_STATE_DIR)",
      },
    ];
  }
  const findings: Finding[] = [];
  const health = input.sync.health;
  const age = health?.secondsSinceLastSuccess ?? null;
  if (age === null) {
    findings.push({
      level: "warning",
      code: "never-polled",
      message: `no successful poll of slot "${slot}" is recorded`,
      fix: "check that the poller is scheduled and running (`slotsync status`, the poller Lambda's errors)",
    });
  } else if (age > input.stalePollMinutes * 60) {
    findings.push({
      level: "warning",
      code: "stale-poll",
      message: `the last successful poll was ${Math.floor(age / 60)} minutes ago (more than ${input.stalePollMinutes}): the poller may be stuck`,
      fix: "check the poller Lambda's errors and logs, and `slotsync status`",
    });
  }
  const bootstrap = health?.bootstrap;
  if (bootstrap && bootstrap.failed > 0) {
    findings.push({
      level: "warning",
      code: "bootstrap-failed",
      message:
        `bootstrap ${bootstrap.bootstrapId}: ${bootstrap.failed} of ${bootstrap.total} ranges failed` +
        (bootstrap.firstFailure
          ? `; range ${bootstrap.firstFailure.rangeId}: ${bootstrap.firstFailure.error.slice(0, 300)}`
          : ""),
      fix: "see the failed ranges and their errors with `slotsync status`, fix the cause, then run `slotsync bootstrap --resume`",
    });
  }
  return findings;
}
