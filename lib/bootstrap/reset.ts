import { randomBytes } from "node:crypto";
import type pg from "pg";
import type { ResolvedSchema } from "../schema";
import { type IndexAdmin, indexAdminOf } from "../sink";
import { BootstrapError } from "./errors";
import { withBootstrapLock } from "./lock";
import { concreteIndexOf, versionOf } from "./naming";
import { readIndexRecord } from "./record";
import { dropSlot } from "./slot";
import { DEFAULT_TARGETS_CACHE_MS } from "./targets";
import type { CompletionDeps } from "./types";

export interface ResetOptions {
  /**
   * Also delete the indices and aliases of the schema's indices: every copy slotsync made, and a
   * concrete index holding an alias's name. Needs `yes` too; without both, indices stay and keep
   * serving (a following bootstrap re-copies behind the alias and switches without downtime).
   */
  deleteIndices?: boolean;
  /** Confirmation for `deleteIndices` (`--yes`). */
  yes?: boolean;
  /** Must match the consumers' target cache; deletion waits it out (see `TimingOptions`). */
  targetsCacheMs?: number;
}

export interface ResetResult {
  slot: string;
  slotDropped: boolean;
  /** Concrete indices deleted (their aliases went with them). */
  deletedIndices: string[];
  scheduleDisabled: boolean;
}

/**
 * The one-command recovery for a lost or broken slot: disables the poller's schedule, drops the
 * slot, clears every checkpoint, lease, alert and bootstrap of the slot and, with `deleteIndices`
 * and `yes`, deletes the indices. Then `bootstrap` starts from scratch.
 * @throws BootstrapError when `deleteIndices` is asked without `yes`.
 */
export async function resetSlot(
  deps: CompletionDeps & { db: pg.ClientBase; schema: ResolvedSchema },
  options: ResetOptions = {},
): Promise<ResetResult> {
  if (options.deleteIndices && !options.yes) {
    throw new BootstrapError("deleting indices needs confirmation", {
      where: "reset",
      fix: "add --yes (or `yes: true`) to delete the indices and aliases too, or leave --delete-indices out",
    });
  }
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const holder = deps.holder ?? `reset-${randomBytes(4).toString("hex")}`;
  return withBootstrapLock(
    deps.store,
    deps.slot,
    { holder, sleep, ...(deps.now ? { now: deps.now } : {}) },
    async () => {
      // Gathered before the store is cleared: the records name copies the cluster cannot list.
      // A stream sink (webhook, NDJSON) has no indices: its receiver keeps the documents.
      const admin = indexAdminOf(deps.sink);
      const doomed = options.deleteIndices && admin ? await indicesOf(deps, admin) : [];
      let scheduleDisabled = false;
      if (deps.schedule) {
        await deps.schedule.disable();
        scheduleDisabled = true;
      }
      const slotDropped = await dropSlot(deps.db, deps.slot, { sleep });
      await deps.store.reset(deps.slot);
      const deletedIndices: string[] = [];
      if (admin && doomed.length > 0) {
        // Consumers may still hold a cached target list naming a copy; deleting it before that
        // cache expires could let a late write re-create it with dynamic mappings.
        await sleep(options.targetsCacheMs ?? DEFAULT_TARGETS_CACHE_MS);
        for (const name of doomed) if ((await admin.deleteIndex(name)).deleted) deletedIndices.push(name);
      }
      return { slot: deps.slot, slotDropped, deletedIndices, scheduleDisabled };
    },
  );
}

/** Concrete indices of the schema's indices: behind each alias, named in records and bootstraps. */
async function indicesOf(
  deps: CompletionDeps & { schema: ResolvedSchema },
  sink: Pick<IndexAdmin, "getAliasTargets" | "indexExists">,
): Promise<string[]> {
  const names = new Set<string>();
  const schemaIndices = deps.schema.indices.map((i) => i.spec.index);
  for (const index of schemaIndices) {
    const targets = await sink.getAliasTargets(index);
    for (const t of targets) names.add(t);
    if (targets.length === 0 && (await sink.indexExists(index))) names.add(index);
    const record = await readIndexRecord(deps.store, deps.slot, index);
    if (record.serving) names.add(record.serving.concrete);
    if (record.building) names.add(record.building.concrete);
    for (const r of record.retired) names.add(r.concrete);
  }
  for (const id of await deps.store.listBootstraps(deps.slot)) {
    if (!versionOf(id)) continue;
    const progress = await deps.store.readBootstrap(deps.slot, id);
    if (progress && schemaIndices.includes(progress.index)) names.add(concreteIndexOf(progress.index, id));
  }
  return [...names].sort();
}
