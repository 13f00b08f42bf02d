import { childPath, describe, isObject, type Problems } from "./problems";
import type { ConcatSpec, JsonLike, JsonLikeObject, MoveSpec, TransformSpec } from "./types";

export const TRANSFORM_KEYS = ["rename", "replace", "concat", "mapping", "move"] as const;
const CONCAT_KEYS = ["columns", "destination", "delimiter"] as const;
const MOVE_KEYS = ["column", "destination"] as const;

export function emptyTransform(): TransformSpec {
  return { rename: {}, replace: {}, concat: [], mapping: {}, move: [] };
}

/** Parses a node's `transform` object. Problems are recorded; the result holds what was valid. */
export function parseTransform(value: JsonLike | undefined, path: string, problems: Problems): TransformSpec {
  const result = emptyTransform();
  const transform = problems.object(value, path, "transform");
  if (!transform) return result;
  problems.unknownKeys(transform, path, TRANSFORM_KEYS, "transform");

  result.rename = parseRename(transform.rename, childPath(path, "rename"), problems);
  result.replace = parseReplace(transform.replace, childPath(path, "replace"), problems);
  result.concat = listOf(transform.concat, childPath(path, "concat"), problems, "concat", parseConcat);
  result.mapping = parseMapping(transform.mapping, childPath(path, "mapping"), problems);
  result.move = listOf(transform.move, childPath(path, "move"), problems, "move", parseMove);
  return result;
}

function parseRename(value: JsonLike | undefined, path: string, problems: Problems): Record<string, string> {
  const rename: Record<string, string> = {};
  const object = problems.object(value, path, "rename (old name -> new name)");
  if (!object) return rename;
  const targets = new Map<string, string>();
  for (const [from, to] of Object.entries(object)) {
    const target = problems.string(to, childPath(path, from), `the new name for "${from}"`);
    if (target === undefined) continue;
    const clash = targets.get(target);
    if (clash !== undefined) {
      problems.add(childPath(path, from), `"${from}" and "${clash}" are both renamed to "${target}"`);
      continue;
    }
    targets.set(target, from);
    rename[from] = target;
  }
  return rename;
}

function parseReplace(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
): Record<string, Record<string, string>> {
  const replace: Record<string, Record<string, string>> = {};
  const object = problems.object(value, path, 'replace ({"field": {"search": "replacement"}})');
  if (!object) return replace;
  for (const [field, pairs] of Object.entries(object)) {
    const fieldPath = childPath(path, field);
    const map = problems.object(pairs, fieldPath, `the replacements for "${field}"`);
    if (!map) continue;
    const entries: Record<string, string> = {};
    for (const [search, replacement] of Object.entries(map)) {
      if (search === "") {
        problems.add(childPath(fieldPath, search), "the text to search for must not be empty");
      } else if (typeof replacement !== "string") {
        problems.add(
          childPath(fieldPath, search),
          `expected the replacement for "${search}" (a string), got ${describe(replacement)}`,
        );
      } else {
        entries[search] = replacement;
      }
    }
    replace[field] = entries;
  }
  return replace;
}

/** `concat` and `move` take one object or a list of them (PGSync accepts both). */
function listOf<T>(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
  what: string,
  parse: (item: JsonLikeObject, path: string, problems: Problems) => T | undefined,
): T[] {
  if (value === undefined) return [];
  const items: Array<[JsonLike, string]> = Array.isArray(value)
    ? value.map((item, i) => [item, childPath(path, i)])
    : [[value, path]];
  const result: T[] = [];
  for (const [item, itemPath] of items) {
    if (!isObject(item)) {
      problems.add(itemPath, `expected a ${what} object (or a list of them), got ${describe(item)}`);
      continue;
    }
    const parsed = parse(item, itemPath, problems);
    if (parsed !== undefined) result.push(parsed);
  }
  return result;
}

function parseConcat(item: JsonLikeObject, path: string, problems: Problems): ConcatSpec | undefined {
  problems.unknownKeys(item, path, CONCAT_KEYS, "concat");
  const columns = problems.strings(item.columns, childPath(path, "columns"), "the fields to join");
  const destination = problems.string(item.destination, childPath(path, "destination"), "destination");
  if (item.columns === undefined) problems.add(path, 'concat needs "columns" (the fields to join)');
  else if (columns && columns.length === 0)
    problems.add(childPath(path, "columns"), "list at least one field");
  if (item.destination === undefined) problems.add(path, 'concat needs "destination" (the field to write)');
  let delimiter = "";
  if (item.delimiter !== undefined) {
    if (typeof item.delimiter === "string") delimiter = item.delimiter;
    else problems.add(childPath(path, "delimiter"), `expected a string, got ${describe(item.delimiter)}`);
  }
  if (!columns || columns.length === 0 || destination === undefined) return undefined;
  return { columns, destination, delimiter };
}

function parseMove(item: JsonLikeObject, path: string, problems: Problems): MoveSpec | undefined {
  problems.unknownKeys(item, path, MOVE_KEYS, "move");
  const column = problems.string(item.column, childPath(path, "column"), "the field to move");
  const destination = problems.string(item.destination, childPath(path, "destination"), "destination");
  if (item.column === undefined) problems.add(path, 'move needs "column" (the field to move)');
  if (item.destination === undefined) {
    problems.add(path, 'move needs "destination", e.g. "$root.author.author_id" or "details.id"');
  }
  if (column === undefined || destination === undefined) return undefined;
  const absolute = destination === "$root" || destination.startsWith("$root.");
  const destinationPath = (absolute ? destination.slice("$root".length + 1) : destination).split(".");
  if (destinationPath.some((part) => part === "")) {
    problems.add(
      childPath(path, "destination"),
      `"${destination}" is not a field path; write field names separated by dots, e.g. "$root.author.id"`,
    );
    return undefined;
  }
  return { column, destination, destinationPath, absolute };
}

function parseMapping(
  value: JsonLike | undefined,
  path: string,
  problems: Problems,
): Record<string, JsonLikeObject> {
  const mapping: Record<string, JsonLikeObject> = {};
  const object = problems.object(value, path, 'mapping ({"field": {"type": "keyword"}})');
  if (!object) return mapping;
  for (const [field, definition] of Object.entries(object)) {
    const fieldPath = childPath(path, field);
    const def = problems.object(definition, fieldPath, `the Elasticsearch mapping of "${field}"`);
    if (!def) continue;
    if (def.type === undefined && def.properties === undefined) {
      problems.add(fieldPath, `the mapping of "${field}" needs a "type" (e.g. "keyword", "long", "date")`);
      continue;
    }
    if (def.type !== undefined && (typeof def.type !== "string" || def.type === "")) {
      problems.add(
        childPath(fieldPath, "type"),
        `expected an Elasticsearch type name, got ${describe(def.type)}`,
      );
      continue;
    }
    mapping[field] = def;
  }
  return mapping;
}
