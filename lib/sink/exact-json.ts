const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/**
 * Parses a JSON response, keeping the integer values of `key` found at nesting `depth` exact by
 * turning them into decimal strings before `JSON.parse` sees them.
 *
 * Why: document versions are commit LSNs, 64-bit integers above 2^53, which `JSON.parse` rounds
 * (Node 20 has no `JSON.parse` source access). Only `key` at exactly `depth` is touched, so a field
 * of the same name inside a document's `_source` (deeper) keeps its type. Depth counts open
 * brackets: in `{"docs":[{"_version":1}]}` the `_version` member is at depth 3.
 */
export function parseWithExactIntegers(text: string, key: string, depth: number): unknown {
  const parts: string[] = [];
  let copied = 0;
  let level = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (level === depth && end - i - 1 === key.length && text.startsWith(key, i + 1)) {
        const start = integerAfterColon(text, end + 1);
        if (start !== -1) {
          let stop = start;
          if (text.charCodeAt(stop) === 0x2d) stop++; // minus
          while (stop < n && isDigit(text.charCodeAt(stop))) stop++;
          // A fraction or exponent means it is not an integer: leave it to JSON.parse.
          const next = text.charCodeAt(stop);
          if (next !== 0x2e && next !== 0x65 && next !== 0x45) {
            parts.push(text.slice(copied, start), '"', text.slice(start, stop), '"');
            copied = stop;
          }
          i = stop;
          continue;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) level++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) level--;
    i++;
  }
  parts.push(text.slice(copied));
  return JSON.parse(parts.join(""));
}

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const q = text.indexOf('"', at);
    if (q === -1) return text.length;
    let slashes = 0;
    for (let k = q - 1; text.charCodeAt(k) === BACKSLASH; k--) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}

/** Where the integer value after `: ` starts, or -1 when what follows is not `:` and a number. */
function integerAfterColon(text: string, from: number): number {
  let at = skipSpace(text, from);
  if (text.charCodeAt(at) !== COLON) return -1;
  at = skipSpace(text, at + 1);
  const c = text.charCodeAt(at);
  return isDigit(c) || c === 0x2d ? at : -1;
}

function skipSpace(text: string, from: number): number {
  let at = from;
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
    else return at;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A `_version` read with `parseWithExactIntegers` (a string) or a plain number, as a bigint. */
export function toBigIntVersion(value: unknown): bigint {
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`not an exact integer version: ${String(value)}`);
}

// Marks a bigint while JSON.stringify runs; NUL is escaped to \u0000 in the output, so a real
// string only collides if it consists of exactly this marker, a number and the marker again.
const BIGINT_MARK = "\u0000#bigint#";
const BIGINT_PLACEHOLDER = /"\\u0000#bigint#(-?\d+)\\u0000#bigint#"/g;

/**
 * `JSON.stringify` that writes bigints as exact JSON integers instead of throwing, so an `int8`
 * column kept as a bigint reaches the index unrounded. Plain objects take the fast path.
 */
export function stringifyExact(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError("value has no JSON form");
    return text;
  } catch (err) {
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
  }
  const marked = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "bigint" ? `${BIGINT_MARK}${v}${BIGINT_MARK}` : v,
  );
  return marked.replace(BIGINT_PLACEHOLDER, "$1");
}
