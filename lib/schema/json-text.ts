import type { SchemaProblem } from "./errors";
import { childPath } from "./problems";

/**
 * How deep a schema's JSON may nest. A tree of 30 nested nodes is about 100 levels
 * (`nodes.children[0].children[0]...`); deeper input is refused before anything walks it, so no
 * walk can run out of stack.
 */
export const MAX_JSON_DEPTH = 200;

/**
 * Parses the text of a schema file. A UTF-8 byte order mark is skipped (editors on Windows write
 * one). A syntax error is reported by line and column only: the text may be anything, a `.env`
 * file passed by mistake included, so no part of it is ever quoted.
 */
export function parseJsonText(
  text: string,
  where: string,
): { json: unknown; problem?: undefined } | { json?: undefined; problem: SchemaProblem } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { problem: { path: "", message: syntaxMessage(body, where, (error as Error).message) } };
  }
  const deep = tooDeep(json);
  if (deep !== undefined) {
    return {
      problem: {
        path: deep,
        message: `the schema nests deeper than ${MAX_JSON_DEPTH} levels here; a schema's tree is never this deep: check that the file is the schema you meant`,
      },
    };
  }
  return { json };
}

function syntaxMessage(text: string, where: string, detail: string): string {
  if (text.trim() === "") return `${where} is empty; a schema is a JSON array of index definitions`;
  const at = /at position (\d+)/.exec(detail);
  const offset = at ? Number(at[1]) : firstErrorOffset(text);
  const { line, column } = lineAndColumn(text, offset);
  const ended = offset >= text.length || /end of JSON input/.test(detail);
  return ended
    ? `${where} is not valid JSON: it ends before the JSON is complete (line ${line}, column ${column}); check for a missing ] or }`
    : `${where} is not valid JSON at line ${line}, column ${column}; check that the file is the schema.json (a JSON array of index definitions) and fix the JSON there`;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/**
 * The offset of the first character JSON does not allow there, for engine messages that give no
 * position ("Unexpected token"). Only called on text JSON.parse refused.
 */
function firstErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/;
  // Explicit stack of open containers ("]" or "}"), so deep input cannot exhaust the call stack.
  const stack: string[] = [];
  for (;;) {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push(c === "{" ? "}" : "]");
      i++;
      ws();
      if (text[i] === stack[stack.length - 1]) {
        stack.pop();
        i++;
      } else if (c === "{") {
        if (!string()) return i;
        ws();
        if (text[i] !== ":") return i;
        i++;
        continue;
      } else {
        continue;
      }
    } else if (c === '"') {
      if (!string()) return i;
    } else {
      const m = literal.exec(text.slice(i, i + 400));
      if (!m) return i;
      i += m[0].length;
    }
    // After a value: close containers, or a comma and the next member.
    for (;;) {
      ws();
      const close = stack[stack.length - 1];
      if (close === undefined) return i;
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ",") return i;
      i++;
      ws();
      if (close === "}") {
        if (!string()) return i;
        ws();
        if (text[i] !== ":") return i;
        i++;
      }
      break;
    }
  }

  function string(): boolean {
    if (text[i] !== '"') return false;
    i++;
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') {
        i++;
        return true;
      }
      if (ch === "\\") i += 2;
      else if (ch.charCodeAt(0) < 0x20) return false;
      else i++;
    }
    return false;
  }
}

/** The JSON path of the first value nested deeper than {@link MAX_JSON_DEPTH}, or undefined. */
function tooDeep(json: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: json, path: "", depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path, depth } = item;
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) return path;
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (let k = entries.length - 1; k >= 0; k--) {
      const [key, child] = entries[k] as [string | number, unknown];
      stack.push({ value: child, path: childPath(path, key), depth: depth + 1 });
    }
  }
  return undefined;
}
