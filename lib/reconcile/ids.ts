import { ID_DELIMITER } from "../document";
import type { ResolvedTable } from "../schema";

/** Most ways of splitting one `_id` tried before giving up on it (a composite key with many `|`). */
const MAX_CANDIDATES = 64;

/**
 * The root keys a document `_id` may stand for. `_id` is the key values joined with `|`, so a
 * composite key whose values contain `|` can be split more than one way: every split into the key's
 * number of parts is returned (the database decides which exists). Booleans come back from
 * PGSync's `True`/`False`.
 */
export function keyCandidates(table: ResolvedTable, id: string): string[][] {
  const width = table.primaryKey.length;
  const parts = id.split(ID_DELIMITER);
  const out: string[][] = [];
  const unbool = (value: string, i: number) =>
    table.primaryKeyBaseTypes[i] === "boolean" && (value === "True" || value === "False")
      ? value.toLowerCase()
      : value;
  const walk = (start: number, acc: string[]) => {
    if (out.length >= MAX_CANDIDATES) return;
    if (acc.length === width - 1) {
      out.push([...acc, parts.slice(start).join(ID_DELIMITER)].map(unbool));
      return;
    }
    const left = width - acc.length - 1;
    for (let end = start + 1; end <= parts.length - left; end++) {
      walk(end, [...acc, parts.slice(start, end).join(ID_DELIMITER)]);
    }
  };
  if (parts.length >= width) walk(0, []);
  return out;
}
