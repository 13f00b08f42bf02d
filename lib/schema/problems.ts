import { didYouMean } from "../errors";
import type { SchemaProblem } from "./errors";
import type { JsonLike, JsonLikeObject } from "./types";

/** Joins a JSON path and a key: `[0]` + `nodes` -> `[0].nodes`, `x` + 2 -> `x[2]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  const plain = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key);
  if (plain) return path === "" ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Describes a JSON value's type for "expected X, got Y" messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value)}`;
    case "number":
      return `the number ${value}`;
    case "boolean":
      return `${value}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

export function isObject(value: unknown): value is JsonLikeObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Collects problems while walking a schema, with typed accessors that record a problem and return
 * undefined when a value has the wrong type, so parsing continues and every problem is reported.
 */
export class Problems {
  readonly list: SchemaProblem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Reports keys of `object` outside `allowed`, suggesting the closest allowed key. */
  unknownKeys(object: JsonLikeObject, path: string, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(object)) {
      if (allowed.includes(key)) continue;
      this.add(
        childPath(path, key),
        `unknown ${what} key "${key}"${didYouMean(key, allowed)} (allowed: ${allowed.join(", ")})`,
      );
    }
  }

  object(value: JsonLike | undefined, path: string, what: string): JsonLikeObject | undefined {
    if (value === undefined) return undefined;
    if (isObject(value)) return value;
    this.add(path, `expected ${what} (a JSON object), got ${describe(value)}`);
    return undefined;
  }

  string(value: JsonLike | undefined, path: string, what: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "string" && value.length > 0) return value;
    if (value === "") this.add(path, `${what} must not be empty`);
    else this.add(path, `expected ${what} (a string), got ${describe(value)}`);
    return undefined;
  }

  /** An array of non-empty strings; reports each bad element at its own path. */
  strings(value: JsonLike | undefined, path: string, what: string): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      const hint = typeof value === "string" ? ` (write ["${value}"])` : "";
      this.add(path, `expected ${what} (an array of strings), got ${describe(value)}${hint}`);
      return undefined;
    }
    const result: string[] = [];
    let ok = true;
    value.forEach((item, i) => {
      const s = this.string(item, childPath(path, i), `each of ${what}`);
      if (s === undefined) ok = false;
      else result.push(s);
    });
    return ok ? result : undefined;
  }
}
