import type { JsonValue } from "./json";

/**
 * Python's truthiness, which PGSync's `concat` uses to skip values (`filter(None, values)`):
 * null, false, 0, "", [] and {} are skipped.
 */
export function pythonTruthy(value: JsonValue | undefined): boolean {
  if (
    value === null ||
    value === undefined ||
    value === false ||
    value === "" ||
    value === 0 ||
    value === 0n
  ) {
    return false;
  }
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

/**
 * Python's `str()` of a value decoded from JSON, which PGSync's `concat` joins.
 * Integer-valued numbers print as ints (`JSON.parse` cannot tell `1.0` from `1`; psycopg2 can, so
 * a float column holding 1.0 concatenates as "1" here and "1.0" in PGSync).
 */
export function pythonStr(value: JsonValue): string {
  if (typeof value === "string") return value;
  return pythonRepr(value);
}

function pythonRepr(value: JsonValue): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return pythonFloat(value);
  if (typeof value === "string") return pythonQuote(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonQuote(k)}: ${pythonRepr(v)}`)
    .join(", ")}}`;
}

function pythonFloat(value: number): string {
  if (Number.isInteger(value)) return value.toString();
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  // Python switches to exponent form below 1e-4 and writes at least two exponent digits.
  if (Math.abs(value) < 1e-4) {
    return value.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return value.toString();
}

/** Python's repr of a str: single quotes unless the text has a single quote and no double quote. */
function pythonQuote(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of text) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}
