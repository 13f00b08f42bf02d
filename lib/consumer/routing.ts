import type { DocumentLocation, IndexAdmin, SinkOperation } from "../sink";

/** What the routing step reads of a search engine. */
export type RoutingReads = Pick<IndexAdmin, "refresh" | "locate">;

/**
 * Makes writes to indices with custom routing (the schema's `routing`) reach every copy of a
 * document. A document's shard follows its routing value, not its id, so:
 * - a delete (root row deleted, primary key changed) carries no routing: the row that held the
 *   value is gone. The copies are found by id across shards (after a refresh, so a copy written
 *   a moment ago is searchable) and each is deleted under its own routing.
 * - an index write under a new routing value (the routing column changed, or a re-parenting
 *   changed it) would leave the copy under the old value on its shard: that copy is deleted,
 *   before the write in the same bulk request (when both routings lead to the same shard, the
 *   delete then removes the old version and the write, at a version not below it, follows).
 * Every delete carries the operation's external version, so a newer write is never undone; and an
 * index write older than a copy under another routing is dropped (external versions are compared
 * per shard, so the engine alone would accept it).
 * Deletes that find no copy are dropped: with `_routing.required` an unrouted delete is refused.
 */
export async function routeOperations(
  sink: RoutingReads,
  ops: readonly SinkOperation[],
  routed: ReadonlySet<SinkOperation>,
): Promise<SinkOperation[]> {
  if (routed.size === 0) return [...ops];
  const byIndex = new Map<string, SinkOperation[]>();
  for (const op of routed) {
    const list = byIndex.get(op.index) ?? [];
    list.push(op);
    byIndex.set(op.index, list);
  }
  const replaced = new Map<SinkOperation, SinkOperation[]>();
  for (const [index, list] of byIndex) {
    const copies = await locateAll(sink, index, list);
    for (const op of list) {
      const here = copies.get(op.id) ?? [];
      // A newer copy under another routing: this write is the stale one (versions are per shard,
      // so the engine cannot refuse it); it is dropped and older copies are still removed.
      const superseded =
        op.kind === "index" && here.some((c) => c.routing !== op.routing && c.version > op.version);
      const stale =
        op.kind === "delete" || superseded
          ? here.filter((c) => c.version <= op.version)
          : here.filter((c) => c.routing !== op.routing);
      const deletes: SinkOperation[] = stale.map((c) => ({
        kind: "delete",
        index: op.index,
        id: op.id,
        version: op.version,
        ...(c.routing === undefined ? {} : { routing: c.routing }),
        ref: op.ref,
      }));
      replaced.set(op, op.kind === "delete" || superseded ? deletes : [...deletes, op]);
    }
  }
  return ops.flatMap((op) => replaced.get(op) ?? [op]);
}

async function locateAll(
  sink: RoutingReads,
  index: string,
  ops: readonly SinkOperation[],
): Promise<Map<string, DocumentLocation[]>> {
  // Search sees what the last refresh published; a copy written by the previous batch a moment
  // ago must be found too, so the lookup refreshes first (one refresh per written chunk and index).
  await sink.refresh(index);
  return group(await sink.locate(index, [...new Set(ops.map((op) => op.id))]));
}

function group(found: readonly DocumentLocation[]): Map<string, DocumentLocation[]> {
  const byId = new Map<string, DocumentLocation[]>();
  for (const where of found) {
    const list = byId.get(where.id) ?? [];
    list.push(where);
    byId.set(where.id, list);
  }
  return byId;
}
