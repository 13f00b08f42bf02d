/**
 * JSON values of documents, with integers beyond 2^53 kept exact as `bigint`.
 *
 * PGSync reads documents through psycopg2, whose JSON decoding gives Python ints of any size, so a
 * `bigint` or `numeric(30,0)` id of 9007199254740993 reaches Elasticsearch exact. `JSON.parse`
 * would round it to 9007199254740992; `parseJson` does not. Fractional numbers are doubles on
 * both sides (Python floats), so they match.
 */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

// A marker no document text can contain: PostgreSQL text and jsonb cannot hold a NUL character.
const MARK = "\u0000bigint:";
/** The marker as it is written inside JSON text. */
const MARK_JSON = "\\u0000bigint:";
const UNSAFE_DIGITS = /\d{16}/;

/**
 * Parses JSON text, returning integers that do not fit a double exactly as `bigint`.
 * Text without a run of 16 digits takes the plain `JSON.parse` path.
 */
export function parseJson(text: string): JsonValue {
  if (!UNSAFE_DIGITS.test(text)) return JSON.parse(text) as JsonValue;
  return JSON.parse(markBigIntegers(text), (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value,
  ) as JsonValue;
}

/** Quotes unsafe integer literals (outside strings) as marked strings for the reviver. */
function markBigIntegers(text: string): string {
  let out = "";
  let last = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      continue;
    }
    if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j] ?? "")) j++;
      const literal = text.slice(i, j);
      if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(last, i)}"${MARK_JSON}${literal}"`;
        last = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  return out + text.slice(last);
}

/**
 * Serialises a document, writing `bigint` values as bare JSON integers. Use it (not
 * `JSON.stringify`, which throws on bigint) wherever a document leaves the process.
 */
export function stringifyJson(value: JsonValue): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    // Only documents that hold a bigint get here: mark them, then unquote the marks.
    const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${MARK}${v}` : v));
    return marked.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
  }
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
