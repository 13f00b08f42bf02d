import { type CatalogState, tableLabel } from "./fingerprint";
import { findingKey, fixFor } from "./format";
import type { DriftFinding, SchemaFingerprint } from "./types";

const key = (t: { schema: string; name: string }) => JSON.stringify([t.schema, t.name]);

/**
 * Compares what a fingerprint's schema uses with the catalog: a missing table (and what its oid
 * is called now, when it was renamed), a missing column (likewise by column number), a column of
 * another type. Pure; findings in fingerprint order, without duplicates.
 */
export function compareFingerprint(fingerprint: SchemaFingerprint, catalog: CatalogState): DriftFinding[] {
  const findings = new Map<string, DriftFinding>();
  const add = (f: Omit<DriftFinding, "fix">) => {
    const finding: DriftFinding = { ...f, fix: fixFor(f.kind, f.table, f.column, f.now) };
    findings.set(findingKey(finding), finding);
  };
  for (const t of fingerprint.tables) {
    const table = tableLabel(t);
    const found = catalog.byName.get(key(t));
    if (!found) {
      const moved = t.oid === undefined ? undefined : catalog.byOid.get(t.oid);
      add({
        index: t.index,
        table,
        kind: "table-missing",
        ...(moved ? { now: `renamed to ${tableLabel(moved)}` } : {}),
      });
      continue;
    }
    const known = new Set(t.columns.map((c) => c.name));
    for (const c of t.columns) {
      const now = found.columns.find((x) => x.name === c.name);
      if (!now) {
        // Same table (same oid) and the column's number now carries another name: a rename.
        const renamed =
          c.attnum !== undefined && t.oid === found.oid
            ? found.columns.find((x) => x.attnum === c.attnum && !known.has(x.name))
            : undefined;
        add({
          index: t.index,
          table,
          column: c.name,
          kind: "column-missing",
          ...(renamed ? { now: `renamed to ${renamed.name}` } : {}),
        });
      } else if (c.type !== "" && now.type !== c.type) {
        add({ index: t.index, table, column: c.name, kind: "type-changed", was: c.type, now: now.type });
      }
    }
  }
  return [...findings.values()];
}
