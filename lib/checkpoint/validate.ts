import { parseDecimalLsn } from "../queue/lsn";
import { CheckpointError } from "./errors";
import type {
  AlertState,
  BootstrapProgress,
  Checkpoint,
  LeaseRef,
  PollerStats,
  RangeProgress,
  RangeUpdate,
} from "./types";

// PostgreSQL slot names: lower-case letters, digits and underscores, at most 63 bytes. Enforcing it
// here also keeps `:` and glob characters out of the Redis key namespace.
const SLOT = /^[a-z0-9_]{1,63}$/;
const ID = /^[A-Za-z0-9_.-]{1,128}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export const STATS_FIELDS = [
  "lastPollAt",
  "lastSuccessAt",
  "lagBytes",
  "changesPerSecond",
  "keysPerSecond",
] as const;
const RANGE_STATUSES = new Set(["pending", "running", "done", "failed"]);
const ALERT_LEVELS = new Set(["ok", "warning", "critical"]);

function invalid(where: string, message: string): never {
  throw new CheckpointError(message, { where, retryable: false });
}

export function checkSlot(slot: string): string {
  if (!SLOT.test(slot)) {
    invalid("slot", `slot name "${slot}" must be 1-63 lower-case letters, digits or underscores`);
  }
  return slot;
}

/** Bootstrap ids and alert names become part of keys and file names. */
export function checkId(kind: string, id: string): string {
  if (!ID.test(id)) invalid(kind, `${kind} "${id}" must be 1-128 letters, digits, ".", "_" or "-"`);
  return id;
}

export function checkRangeId(rangeId: string): string {
  if (rangeId.length === 0 || rangeId.length > 1024) invalid("rangeId", "range id must be 1-1024 characters");
  return rangeId;
}

export function checkLease<T extends LeaseRef>(lease: T): T {
  checkSlot(lease.slot);
  if (!Number.isSafeInteger(lease.token) || lease.token < 1)
    invalid("lease.token", `bad token ${lease.token}`);
  return lease;
}

export function checkTtl(ttlMs: number | undefined): number {
  if (ttlMs === undefined)
    invalid("ttlMs", "lease ttl is required: pass it or renew the grant acquire returned");
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1)
    invalid("ttlMs", `lease ttl must be a positive integer, got ${ttlMs}`);
  return ttlMs;
}

export function checkLsn(where: string, lsn: string): string {
  if (typeof lsn !== "string" || parseDecimalLsn(lsn) === undefined) {
    invalid(where, `must be an unsigned 64-bit LSN as a decimal string, got ${JSON.stringify(lsn)}`);
  }
  return lsn;
}

export function checkTime(where: string, value: string): string {
  if (typeof value !== "string" || !ISO.test(value) || Number.isNaN(Date.parse(value))) {
    invalid(where, `must be an ISO 8601 date-time, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkCount(where: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    invalid(where, `must be a non-negative integer, got ${value}`);
  return value;
}

function checkNumber(where: string, value: number | null): number | null {
  if (value !== null && (typeof value !== "number" || !Number.isFinite(value))) {
    invalid(where, `must be a finite number or null, got ${value}`);
  }
  return value;
}

export function checkCheckpoint(cp: Checkpoint): Checkpoint {
  checkLsn("checkpoint.lsn", cp.lsn);
  if (cp.committedAt !== null) checkTime("checkpoint.committedAt", cp.committedAt);
  checkTime("checkpoint.updatedAt", cp.updatedAt);
  for (const name of ["transactions", "changes", "keys"] as const) {
    checkCount(`checkpoint.counts.${name}`, cp.counts?.[name]);
  }
  return cp;
}

export function checkStats(stats: Partial<PollerStats>): Partial<PollerStats> {
  for (const [name, value] of Object.entries(stats)) {
    if (!(STATS_FIELDS as readonly string[]).includes(name)) invalid(`stats.${name}`, "unknown stats field");
    if (value === null || value === undefined) continue;
    if (name === "lastPollAt" || name === "lastSuccessAt") checkTime(`stats.${name}`, value as string);
    else checkNumber(`stats.${name}`, value as number);
  }
  return stats;
}

export function checkAlert(state: AlertState): AlertState {
  if (!ALERT_LEVELS.has(state.level))
    invalid("alert.level", `must be ok, warning or critical, got ${state.level}`);
  checkTime("alert.since", state.since);
  if (state.lastNotifiedAt !== null) checkTime("alert.lastNotifiedAt", state.lastNotifiedAt);
  return state;
}

export function checkRangeUpdate(update: RangeUpdate): RangeUpdate {
  if (!RANGE_STATUSES.has(update.status) || update.status === ("pending" as string)) {
    invalid("range.status", `must be running, done or failed, got ${update.status}`);
  }
  if (update.documents !== undefined) checkCount("range.documents", update.documents);
  if (update.at !== undefined) checkTime("range.at", update.at);
  return update;
}

/** The stored form of a range's progress. */
export function rangeRecord(update: RangeUpdate, at: string): RangeProgress {
  return {
    status: update.status,
    documents: update.documents ?? 0,
    updatedAt: at,
    ...(update.error === undefined ? {} : { error: update.error.slice(0, 2000) }),
  };
}

/** Reads back stored data, refusing anything this version did not write. */
export function corrupt(where: string, detail: string): never {
  throw new CheckpointError(`stored data at ${where} is not readable: ${detail}`, {
    where,
    retryable: false,
    fix: "it was not written by this slotsync version; run `slotsync reset` for the slot",
  });
}

export function parseRange(where: string, rangeId: string, value: unknown): RangeProgress {
  const raw = typeof value === "string" ? safeJson(where, value) : value;
  const r = raw as Partial<RangeProgress> | null;
  if (
    !r ||
    typeof r !== "object" ||
    !RANGE_STATUSES.has(r.status as string) ||
    typeof r.documents !== "number" ||
    typeof r.updatedAt !== "string"
  ) {
    corrupt(`${where} ${rangeId}`, "not a range record");
  }
  return r as RangeProgress;
}

export function parseAlert(where: string, value: unknown): AlertState {
  const raw = typeof value === "string" ? safeJson(where, value) : value;
  const a = raw as Partial<AlertState> | null;
  if (!a || typeof a !== "object" || !ALERT_LEVELS.has(a.level as string) || typeof a.since !== "string") {
    corrupt(where, "not an alert state");
  }
  return a as AlertState;
}

/** Largest drift record accepted (a schema's fingerprint is a few KiB; this leaves ample room). */
const MAX_DRIFT_BYTES = 256 * 1024;

/** A drift record must be a JSON object of bounded size; returns its JSON text. */
export function checkDriftRecord(record: unknown): string {
  if (!record || typeof record !== "object" || Array.isArray(record))
    invalid("drift", "a drift record must be a JSON object");
  const text = JSON.stringify(record);
  if (text.length > MAX_DRIFT_BYTES)
    invalid("drift", `a drift record must be under ${MAX_DRIFT_BYTES} bytes`);
  return text;
}

/** A stored drift record, parsed. */
export function parseDrift(where: string, value: unknown): Record<string, unknown> {
  const raw = typeof value === "string" ? safeJson(where, value) : value;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) corrupt(where, "not a drift record");
  return raw as Record<string, unknown>;
}

export function safeJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return corrupt(where, "not JSON");
  }
}

/** Summarises a bootstrap's ranges into its progress. */
export function summarise(
  meta: Omit<BootstrapProgress, "done" | "running" | "failed" | "pending" | "documents" | "ranges">,
  ranges: Record<string, RangeProgress>,
): BootstrapProgress {
  let done = 0;
  let running = 0;
  let failed = 0;
  let documents = 0;
  for (const range of Object.values(ranges)) {
    if (range.status === "done") {
      done += 1;
      documents += range.documents;
    } else if (range.status === "running") running += 1;
    else if (range.status === "failed") failed += 1;
  }
  const pending = Math.max(0, meta.total - done - running - failed);
  return { ...meta, done, running, failed, pending, documents, ranges };
}
