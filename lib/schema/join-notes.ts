import { relationKey } from "./catalog";
import type { ResolvedSchema } from "./model";
import { displayName } from "./sql";

/**
 * One line per join of a table with itself, saying which way it was read, so a user of a
 * self-referencing tree (PGSync's `node` example) sees what "child" means before trusting the
 * documents: `<json path>: <explanation>`.
 */
export function selfJoinNotes(schema: ResolvedSchema): string[] {
  const notes: string[] = [];
  for (const index of schema.indices) {
    for (const node of index.nodes) {
      const parent = node.parentId === undefined ? undefined : index.nodes[node.parentId];
      const join = node.join;
      if (!parent || join?.kind !== "direct") continue;
      if (relationKey(node.table) !== relationKey(parent.table)) continue;
      const table = displayName(node.table);
      const equal = join.childColumns
        .map((c, i) => `${c} = the parent's ${join.parentColumns[i] ?? ""}`)
        .join(" and ");
      const via = join.constraint ? ` (${join.constraint})` : "";
      const reading =
        join.direction === "child_holds_key"
          ? `each "${node.label}" is a row that points at its parent, ${equal}`
          : `"${node.label}" is the row its parent points at, ${equal}`;
      notes.push(
        `${node.path}: ${table} joins itself${via}; ${reading} (set "foreign_key" in the relationship to read it the other way)`,
      );
    }
  }
  return notes;
}
