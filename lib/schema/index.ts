/**
 * PGSync-compatible schema: load, parse and validate `schema.json`, then resolve it against the
 * database into a model of tables, keys and joins.
 */

export {
  type AllColumnsUse,
  allColumnsUses,
  columnSignature,
  readColumnSignatures,
  resolvedColumnSignatures,
} from "./all-columns";
export type {
  Catalog,
  CatalogColumn,
  CatalogForeignKey,
  CatalogPartition,
  CatalogRelation,
  RelationKind,
  ReplicaIdentity,
} from "./catalog";
export { findRelation, introspectCatalog, relationKey } from "./catalog";
export { parseColumnEntry } from "./columns";
export {
  type EnvMap,
  hideInterpolatedValues,
  type Interpolation,
  SCHEMA_ENV_ALLOW,
  SCHEMA_ENV_PREFIX,
  SECRET_KEYS_VARIABLE,
  schemaEnvRefusal,
  substituteEnv,
} from "./env";
export { formatProblems, SchemaError, SchemaLoadError, type SchemaProblem } from "./errors";
export { indexNameProblem } from "./index-name";
export { selfJoinNotes } from "./join-notes";
export { MAX_JSON_DEPTH, parseJsonText } from "./json-text";
export {
  describeSource,
  type LoadSchemaOptions,
  loadSchema,
  MAX_SCHEMA_BYTES,
  readSchemaText,
  type S3TextFetcher,
} from "./load";
export type {
  DirectJoin,
  JoinDirection,
  NodeRules,
  ReplicaIdentityNeed,
  ResolvedChangeFilter,
  ResolvedColumn,
  ResolvedFilter,
  ResolvedIndex,
  ResolvedJoin,
  ResolvedNode,
  ResolvedSchema,
  ResolvedTable,
  ResolvedValueRule,
  TableReplicaIdentity,
  TableUse,
  ThroughJoin,
} from "./model";
export { type ParseOptions, parseSchema, type SchemaValidation, validateSchema } from "./parse";
export { identityColumns, replicaIdentityNeeds } from "./replica-identity";
export {
  checkSchema,
  type ResolveOptions,
  resolveSchema,
  resolveWithCatalog,
  type SchemaCheck,
  schemaTables,
} from "./resolve";
export { nodeRulePaths } from "./resolve-rules";
export { compileRuleRegex, type RuleRegex, type RuleRegexResult } from "./rule-regex";
export { displayName, type Queryable, qualifiedName, quoteIdent, quoteLiteral } from "./sql";
export type {
  ColumnSpec,
  ConcatSpec,
  FilterOp,
  FilterRuleSpec,
  FilterValue,
  ForeignKeySpec,
  IndexSpec,
  JsonLike,
  JsonLikeObject,
  JsonPathStep,
  MaskRuleSpec,
  MoveSpec,
  NodeSpec,
  RegexRuleSpec,
  RelationshipSpec,
  RelationshipType,
  RelationshipVariant,
  RuleOperation,
  RuleSpec,
  SchemaSpec,
  TableName,
  TransformSpec,
} from "./types";
