import type { DriftFinding, DriftKind } from "./types";

/** The documented recovery, in one sentence. */
export const DRIFT_FIX =
  'update schema.json to the database\'s tables and columns and deploy it, then re-index with no downtime: `slotsync bootstrap --reindex` (Lambda: `{"action":"start","reindex":true}`)';

/** The fix for one kind of finding. */
export function fixFor(kind: DriftKind, table: string, column: string | undefined, now?: string): string {
  const renamed = now?.startsWith("renamed to ") ? ` (${now})` : "";
  switch (kind) {
    case "table-missing":
      return `point the schema's nodes at the table that replaced ${table}${renamed} or remove them, deploy schema.json, then re-index with no downtime: \`slotsync bootstrap --reindex\``;
    case "column-missing":
      return `remove or rename "${column}" of ${table}${renamed} in schema.json, deploy it, then re-index with no downtime: \`slotsync bootstrap --reindex\``;
    case "type-changed":
      return `check the mappings of ${table}.${column} in schema.json (and update them if needed), deploy it, then re-index with no downtime: \`slotsync bootstrap --reindex\``;
  }
}

/** One finding in words, e.g. `index book: column public.book.title is missing (renamed to name)`. */
export function describeFinding(f: DriftFinding): string {
  const what =
    f.kind === "table-missing"
      ? `table ${f.table} is missing`
      : f.kind === "column-missing"
        ? `column ${f.table}.${f.column} is missing`
        : `column ${f.table}.${f.column} changed type from ${f.was} to ${f.now}`;
  const renamed = f.kind !== "type-changed" && f.now ? ` (${f.now})` : "";
  return `index ${f.index}: ${what}${renamed}`;
}

/** A stable key of a finding, for comparing two checks. */
export function findingKey(f: DriftFinding): string {
  return JSON.stringify([f.index, f.table, f.column ?? null, f.kind, f.was ?? null, f.now ?? null]);
}
