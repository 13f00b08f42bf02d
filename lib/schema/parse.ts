import { type EnvMap, hideInterpolatedValues, type Interpolation, substituteEnv } from "./env";
import { SchemaError, type SchemaProblem } from "./errors";
import { indexNameProblem } from "./index-name";
import { parseNode } from "./parse-node";
import { parseSlotsyncKey } from "./parse-rules";
import { childPath, describe, isObject, Problems } from "./problems";
import type { IndexSpec, JsonLike, SchemaSpec } from "./types";

export const INDEX_KEYS = [
  "database",
  "index",
  "nodes",
  "setting",
  "mapping",
  "mappings",
  "routing",
  "pipeline",
  "plugins",
  // slotsync's own extensions (rules); PGSync ignores index keys it does not know.
  "slotsync",
] as const;

export interface ParseOptions {
  /** Values for `${NAME}` references in string values; without it references are left as written. */
  env?: EnvMap;
}

/** The result of validating a schema without throwing. */
export interface SchemaValidation {
  /** Present when there are no problems. */
  schema: SchemaSpec | undefined;
  problems: SchemaProblem[];
}

/**
 * Parses and statically validates a schema (the JSON value of a `schema.json`).
 * Reports every problem at once; never consults the database.
 */
export function validateSchema(json: unknown, options: ParseOptions = {}): SchemaValidation {
  const problems = new Problems();
  let value = json as JsonLike;
  let interpolations: Interpolation[] = [];
  if (options.env) {
    const substituted = substituteEnv(value, options.env);
    value = substituted.value;
    interpolations = substituted.interpolations;
    for (const p of substituted.problems) problems.add(p.path, p.message);
  }
  // No message may show what an environment variable holds.
  const reported = () =>
    interpolations.length === 0
      ? problems.list
      : problems.list.map((p) => ({
          path: p.path,
          message: hideInterpolatedValues(p.message, interpolations),
        }));
  if (!Array.isArray(value)) {
    const hint = isObject(value) ? ": wrap the index definition in [ ]" : "";
    problems.add("", `expected an array of index definitions, got ${describe(value)}${hint}`);
    return { schema: undefined, problems: reported() };
  }
  if (value.length === 0) {
    problems.add("", "the schema defines no index; add at least one index definition");
  }
  const indices: IndexSpec[] = [];
  value.forEach((item, i) => {
    const spec = parseIndex(item, childPath("", i), problems);
    if (spec) indices.push(spec);
  });
  checkDistinctIndices(indices, problems);
  return { schema: problems.empty ? indices : undefined, problems: reported() };
}

/**
 * Parses and statically validates a schema.
 * @throws SchemaError listing every problem when the schema is invalid.
 */
export function parseSchema(json: unknown, options: ParseOptions = {}): SchemaSpec {
  const { schema, problems } = validateSchema(json, options);
  if (!schema) throw new SchemaError(problems);
  return schema;
}

function parseIndex(value: JsonLike, path: string, problems: Problems): IndexSpec | undefined {
  if (!isObject(value)) {
    problems.add(
      path,
      `expected an index definition (a JSON object with "database" and "nodes"), got ${describe(value)}`,
    );
    return undefined;
  }
  problems.unknownKeys(value, path, INDEX_KEYS, "index definition");

  const database = problems.string(value.database, childPath(path, "database"), "database");
  const indexName = problems.string(value.index, childPath(path, "index"), "index");
  // PGSync: the index defaults to the database name and the database to the index name.
  if (value.database === undefined && value.index === undefined) {
    problems.add(path, 'an index definition needs "database" (and usually "index")');
  }
  const index = indexName ?? database;
  if (index !== undefined) {
    const problem = indexNameProblem(index);
    if (problem) problems.add(childPath(path, indexName !== undefined ? "index" : "database"), problem);
  }

  const setting = problems.object(value.setting, childPath(path, "setting"), "setting (index settings)");
  const mapping = problems.object(value.mapping, childPath(path, "mapping"), "mapping (field mappings)");
  const mappings = problems.object(value.mappings, childPath(path, "mappings"), "mappings");
  const routing = problems.string(value.routing, childPath(path, "routing"), "routing (a field name)");
  const pipeline = problems.string(
    value.pipeline,
    childPath(path, "pipeline"),
    "pipeline (an ingest pipeline name)",
  );
  const plugins = problems.strings(value.plugins, childPath(path, "plugins"), "plugins") ?? [];

  const rules = parseSlotsyncKey(value.slotsync, childPath(path, "slotsync"), problems);

  const nodesPath = childPath(path, "nodes");
  if (value.nodes === undefined) {
    problems.add(path, 'an index definition needs "nodes": the root node, e.g. {"table": "book"}');
  }
  const nodes = value.nodes === undefined ? undefined : parseNode(value.nodes, nodesPath, problems, true);
  if (nodes === undefined || index === undefined) return undefined;
  return {
    path,
    database: database ?? index,
    index,
    nodes,
    setting,
    mapping,
    mappings,
    routing,
    pipeline,
    plugins,
    slotsync: value.slotsync,
    rules,
  };
}

/** Two definitions writing the same index of the same database would overwrite each other's documents. */
function checkDistinctIndices(indices: IndexSpec[], problems: Problems): void {
  const seen = new Map<string, IndexSpec>();
  for (const spec of indices) {
    const previous = seen.get(spec.index);
    if (previous) {
      problems.add(
        childPath(spec.path, "index"),
        `index "${spec.index}" is also defined at ${previous.path}; give each definition its own index`,
      );
    } else {
      seen.set(spec.index, spec);
    }
  }
}
