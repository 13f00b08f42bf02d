import type { ResolvedTable } from "../schema";
import { DocumentError } from "./errors";

/** One value of a root key, as the caller has it (from the WAL, a queue message, a CLI flag). */
export type KeyPart = string | number | bigint | boolean;

/** A root row's primary key: one value, or one per key column in primary key order. */
export type RootKey = KeyPart | readonly KeyPart[];

/** The PGSync `_id` delimiter between the values of a composite key. */
export const ID_DELIMITER = "|";

/**
 * Turns a root key into one text value per primary key column (PostgreSQL casts them back to the
 * column types in the query, so numbers and strings are both fine).
 * @throws DocumentError when the number of values does not match the key.
 */
export function keyText(table: ResolvedTable, key: RootKey): string[] {
  const parts: readonly KeyPart[] = Array.isArray(key) ? key : [key as KeyPart];
  if (parts.length !== table.primaryKey.length) {
    throw new DocumentError(
      `a key of ${table.schema}.${table.name} has ${table.primaryKey.length} value(s) (${table.primaryKey.join(", ")}), got ${parts.length}`,
      { where: `${table.schema}.${table.name}` },
    );
  }
  return parts.map((part, i) => {
    if (part === null || part === undefined) {
      throw new DocumentError(
        `key column ${table.primaryKey[i]} of ${table.schema}.${table.name} cannot be null`,
      );
    }
    return String(part);
  });
}

/**
 * The document `_id` PGSync gives a root row: its primary key values as Python's `str()` writes
 * them, joined with `|`. PostgreSQL's text form agrees with Python's for integers, text, uuid,
 * numeric and dates; booleans are the exception (`true` vs `True`) and are converted here.
 * Timestamps with fractional seconds differ (Python pads to 6 digits); we keep PostgreSQL's form.
 */
export function documentId(table: ResolvedTable, key: readonly string[]): string {
  return key
    .map((value, i) => (table.primaryKeyBaseTypes[i] === "boolean" ? pythonBoolean(value) : value))
    .join(ID_DELIMITER);
}

function pythonBoolean(text: string): string {
  if (text === "true" || text === "t") return "True";
  if (text === "false" || text === "f") return "False";
  return text;
}
