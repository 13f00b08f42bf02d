import { allColumnsUses, readColumnSignatures, resolvedColumnSignatures } from "../schema";
import type { CycleDeps, CycleResult } from "./cycle";
import type { Handoff } from "./ports";

/**
 * Watches the tables of nodes that take every column (no `columns` in the schema): a column added
 * (or dropped) changes every document of such a node without any row change, so it queues a
 * rebuild of each index with such a node on the table, versioned at the slot's confirmed position
 * like a partition change (every later transaction wins over it). Consumers build with the new
 * columns (lib/runtime `refreshBuilders`). The column sets handed on last are kept in the state
 * store, so a column added while no poller ran is noticed too; before the first write, the columns
 * the schema was resolved with are the reference. One catalog query per cycle, only for schemas
 * with such nodes.
 */
export async function watchColumns(
  deps: Pick<CycleDeps, "db" | "resolver" | "reader" | "columnSets">,
  special: Handoff[],
  indexNames: readonly string[],
  result: CycleResult,
): Promise<{ commit(): Promise<void> } | undefined> {
  const uses = allColumnsUses(deps.resolver.schema);
  if (uses.length === 0) return undefined;
  const tables = [
    ...new Map(uses.map((u) => [JSON.stringify([u.table.schema, u.table.name]), u.table])).values(),
  ];
  const now = await readColumnSignatures(deps.db, tables);
  const stored = (await deps.columnSets?.read()) ?? null;
  const before = stored ?? resolvedColumnSignatures(uses);
  const commit = async () => {
    await deps.columnSets?.write(now);
  };
  const tableOf = (signature: string) => JSON.stringify((JSON.parse(signature) as string[]).slice(0, 2));
  const present = new Set(now.map(tableOf));
  const was = new Set(before);
  const is = new Set(now);
  // A table that is gone is schema drift (the drift check stops the poller), not a column change.
  const changed = new Set(
    [...before.filter((s) => !is.has(s)), ...now.filter((s) => !was.has(s))]
      .map(tableOf)
      .filter((t) => present.has(t)),
  );
  if (changed.size === 0) return stored === null ? { commit } : undefined;
  const version = (await deps.reader.info()).confirmedFlushLsn ?? 0n;
  for (const use of uses) {
    const index = indexNames[use.index];
    if (index === undefined || !changed.has(JSON.stringify([use.table.schema, use.table.name]))) continue;
    if (special.some((h) => h.kind === "rebuild" && h.index === index)) continue;
    special.push({ kind: "rebuild", index, version });
  }
  result.columnChanges += changed.size;
  return { commit };
}
