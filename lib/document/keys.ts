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
 * numeric and dates. Booleans (`true` vs `True`) and times with fractional seconds or an offset
 * (`10:00:00.5+00` vs `10:00:00.500000+00:00`, psycopg2 giving PGSync `datetime`/`time` values)
 * are converted here; both forms read back as the same value in PostgreSQL.
 */
export function documentId(table: ResolvedTable, key: readonly string[]): string {
  return key.map((value, i) => pythonText(table.primaryKeyBaseTypes[i] ?? "text", value)).join(ID_DELIMITER);
}

function pythonText(baseType: string, text: string): string {
  if (baseType === "boolean") return pythonBoolean(text);
  if (baseType.startsWith("timestamp") || baseType.startsWith("time ")) return pythonTime(text);
  return text;
}

function pythonBoolean(text: string): string {
  if (text === "true" || text === "t") return "True";
  if (text === "false" || text === "f") return "False";
  return text;
}

// The end of a PostgreSQL time or timestamp (ISO DateStyle): seconds, fraction, UTC offset.
const TIME_END = /(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?([+-]\d{2}(?::\d{2}){0,2})?$/;

/**
 * Python's `str()` of a datetime or time: a fraction is written with 6 digits (PostgreSQL drops
 * trailing zeros), an offset as `±HH:MM` (PostgreSQL writes `+00`). `infinity` and other forms
 * with no clock time stay as they are.
 */
function pythonTime(text: string): string {
  return text.replace(
    TIME_END,
    (_all, clock: string, fraction: string | undefined, offset: string | undefined) => {
      const micro = fraction === undefined ? "" : `.${fraction.padEnd(6, "0")}`;
      const zone = offset === undefined ? "" : offset.length === 3 ? `${offset}:00` : offset;
      return `${clock}${micro}${zone}`;
    },
  );
}
