import type pg from "pg";
import type { BootstrapProgress, CheckpointStore } from "../checkpoint";
import type { ResolvedSchema } from "../schema";
import type { IndexAdmin } from "../sink";
import { PgSlotReader, SlotMissingError } from "../slot";
import { copyIndexBody } from "./body";
import { bodyHash } from "./naming";
import { type BuildingCopy, type CopyInfo, type RetiredIndex, readIndexRecord } from "./record";

/** A bootstrap's progress without the per-range detail. */
export type ProgressCounts = Omit<BootstrapProgress, "ranges">;

export interface IndexStatus {
  index: string;
  /** What the schema's index name is now: an alias, a concrete index (PGSync's), or nothing. */
  servingKind: "alias" | "index" | "none";
  /** Concrete indices behind the name (the name itself when it is a concrete index). */
  serving: string[];
  /** The copy slotsync switched in, as recorded. */
  served: CopyInfo | null;
  /** The copy being built, with its progress. */
  building: (BuildingCopy & { progress: ProgressCounts | null }) | null;
  /** Old copies waiting for deletion after the grace period. */
  retired: RetiredIndex[];
  /** The schema's mappings or settings differ from those the served copy was built with. */
  reindexNeeded: boolean;
}

export interface BootstrapStatus {
  slot: string;
  /** Whether the slot exists and where it stands; absent when no database connection was given. */
  slotState?:
    | { exists: false }
    | { exists: true; confirmedFlushLsn: string | null; walStatus: string | null };
  indices: IndexStatus[];
}

/** Strips the per-range map for display. */
export function progressCounts(progress: BootstrapProgress): ProgressCounts {
  const { ranges: _ranges, ...counts } = progress;
  return counts;
}

/** What `slotsync status` shows about bootstraps and indices (read-only). */
export async function bootstrapStatus(deps: {
  slot: string;
  schema: ResolvedSchema;
  /** The search engine's index administration; undefined for a stream sink (no aliases to read). */
  sink: Pick<IndexAdmin, "getAliasTargets" | "indexExists"> | undefined;
  store: Pick<CheckpointStore, "readAlert" | "readBootstrap">;
  db?: pg.ClientBase;
}): Promise<BootstrapStatus> {
  const indices: IndexStatus[] = [];
  for (const index of deps.schema.indices) {
    const name = index.spec.index;
    const record = await readIndexRecord(deps.store, deps.slot, name);
    const aliasTargets = deps.sink ? await deps.sink.getAliasTargets(name) : [];
    const concrete =
      aliasTargets.length === 0 && deps.sink !== undefined && (await deps.sink.indexExists(name));
    let building: IndexStatus["building"] = null;
    if (record.building) {
      const progress = await deps.store.readBootstrap(deps.slot, record.building.bootstrapId);
      building = { ...record.building, progress: progress ? progressCounts(progress) : null };
    }
    indices.push({
      index: name,
      servingKind: aliasTargets.length > 0 ? "alias" : concrete ? "index" : "none",
      serving: aliasTargets.length > 0 ? aliasTargets : concrete ? [name] : [],
      served: record.serving,
      building,
      retired: record.retired,
      reindexNeeded:
        record.serving !== null && record.serving.bodyHash !== bodyHash(copyIndexBody(index.spec)),
    });
  }
  const status: BootstrapStatus = { slot: deps.slot, indices };
  if (deps.db) {
    try {
      const info = await new PgSlotReader(deps.db, deps.slot).info();
      status.slotState = {
        exists: true,
        confirmedFlushLsn: info.confirmedFlushLsn?.toString() ?? null,
        walStatus: info.walStatus,
      };
    } catch (error) {
      if (!(error instanceof SlotMissingError)) throw error;
      status.slotState = { exists: false };
    }
  }
  return status;
}
