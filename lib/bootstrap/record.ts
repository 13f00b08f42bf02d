import { createHash } from "node:crypto";
import type { CheckpointStore } from "../checkpoint";
import { BootstrapError } from "./errors";

/**
 * What slotsync remembers per schema index between invocations: which concrete index serves it,
 * which one is being built (and so must receive live changes too), and old ones waiting for
 * deletion. The checkpoint store has no record type for this, so it lives as a named entry of the
 * slot's alert state (`AlertState.message` holds the JSON): one read per lookup, removed by
 * `store.reset(slot)` with everything else, never seen by the monitor (which reads alerts by name).
 */
export interface IndexRecord {
  v: 1;
  /** The schema's index name (the alias). */
  index: string;
  /** The copy behind the alias, once one was switched in. */
  serving: CopyInfo | null;
  /** The copy being built. */
  building: BuildingCopy | null;
  /** Concrete indices the alias left, deleted once `deleteAfter` has passed. */
  retired: RetiredIndex[];
}

export interface CopyInfo {
  bootstrapId: string;
  concrete: string;
  /** Hash of the index body the copy was created with (see `bodyHash`). */
  bodyHash: string;
  /** When the alias was pointed at it; absent while building. */
  switchedAt?: string;
}

export interface BuildingCopy extends CopyInfo {
  /**
   * `creating`: the record is written before the index is created, so a crash in between leaves
   * a name to resume with, but consumers must not write there yet (a write to a missing index
   * would auto-create it with dynamic mappings). `copying`: the index exists; consumers write
   * live changes to it as well as to the alias.
   */
  phase: "creating" | "copying";
  /** When the phase became `copying`: write-target caches older than that may not know the index. */
  registeredAt?: string;
  reindex: boolean;
}

export interface RetiredIndex {
  concrete: string;
  deleteAfter: string;
}

/** The alert-state entry name of an index's record (the store allows 128 characters of [A-Za-z0-9_.-]). */
export function recordName(index: string): string {
  return `slotsync.index.${createHash("sha256").update(index).digest("hex").slice(0, 32)}`;
}

/** An index's record; an empty one when none is stored. */
export async function readIndexRecord(
  store: Pick<CheckpointStore, "readAlert">,
  slot: string,
  index: string,
): Promise<IndexRecord> {
  const state = await store.readAlert(slot, recordName(index));
  if (!state?.message) return emptyRecord(index);
  let parsed: unknown;
  try {
    parsed = JSON.parse(state.message);
  } catch (cause) {
    throw corrupt(index, cause);
  }
  const record = parsed as Partial<IndexRecord>;
  if (record.v !== 1 || record.index !== index || !Array.isArray(record.retired)) throw corrupt(index);
  return {
    v: 1,
    index,
    serving: record.serving ?? null,
    building: record.building ?? null,
    retired: record.retired,
  };
}

/** Replaces an index's record. Callers hold the bootstrap lock, so read-modify-write is safe. */
export async function writeIndexRecord(
  store: Pick<CheckpointStore, "writeAlert">,
  slot: string,
  record: IndexRecord,
  at: Date,
): Promise<void> {
  await store.writeAlert(slot, recordName(record.index), {
    level: "ok",
    since: at.toISOString(),
    lastNotifiedAt: null,
    message: JSON.stringify(record),
  });
}

export function emptyRecord(index: string): IndexRecord {
  return { v: 1, index, serving: null, building: null, retired: [] };
}

function corrupt(index: string, cause?: unknown): BootstrapError {
  return new BootstrapError(`the stored bootstrap record of index "${index}" cannot be read`, {
    where: index,
    cause,
    fix: "run `slotsync reset` and bootstrap again",
  });
}
