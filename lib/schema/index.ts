/**
 * PGSync-compatible schema: load, parse and validate `schema.json`, then resolve it against the
 * database into a model of tables, keys and joins.
 */

export { allColumnsUses, readColumnSignatures, resolvedColumnSignatures } from "./all-columns";
export type { Catalog, CatalogRelation, ReplicaIdentity } from "./catalog";
export { relationKey } from "./catalog";
export { parseColumnEntry } from "./columns";
export { hideInterpolatedValues, SECRET_KEYS_VARIABLE, substituteEnv } from "./env";
export { formatProblems, SchemaError, SchemaLoadError, type SchemaProblem } from "./errors";
export { indexNameProblem } from "./index-name";
export { selfJoinNotes } from "./join-notes";
export { MAX_JSON_DEPTH, parseJsonText } from "./json-text";
export { describeSource, loadSchema, readSchemaText } from "./load";
export type {
  ReplicaIdentityNeed,
  ResolvedChangeFilter,
  ResolvedColumn,
  ResolvedFilter,
  ResolvedIndex,
  ResolvedNode,
  ResolvedSchema,
  ResolvedTable,
  ResolvedValueRule,
} from "./model";
export { parseSchema, validateSchema } from "./parse";
export {
  checkSchema,
  type ResolveOptions,
  resolveSchema,
  resolveWithCatalog,
  type SchemaCheck,
} from "./resolve";
export { compileRuleRegex } from "./rule-regex";
export { displayName, type Queryable, qualifiedName, quoteIdent, quoteLiteral } from "./sql";
export type {
  ConcatSpec,
  IndexSpec,
  JsonLike,
  JsonLikeObject,
  MoveSpec,
  NodeSpec,
  RuleOperation,
  SchemaSpec,
  TableName,
  TransformSpec,
} from "./types";
