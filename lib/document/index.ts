/**
 * Builds the nested documents of a resolved schema from PostgreSQL, PGSync-compatible.
 */
export {
  createDocumentBuilder,
  type DeleteDocument,
  DocumentBuilder,
  type DocumentBuilderOptions,
  type DocumentResult,
  type IndexDocument,
  type RangeResult,
} from "./builder";
export { DocumentError, PluginError } from "./errors";
export { buildIndexBody, type IndexBody } from "./index-body";
export { isJsonObject, type JsonObject, type JsonValue, parseJson, stringifyJson } from "./json";
export { documentId, ID_DELIMITER, type KeyPart, keyText, type RootKey } from "./keys";
export {
  type DocumentPlugin,
  isDropped,
  type LoadPluginsOptions,
  loadPlugins,
  type PluginContext,
  type PluginResult,
  pluginModuleNames,
} from "./plugins";
export { MAX_PAIRS_PER_OBJECT } from "./sql-expr";
export { nodeObjectSql } from "./sql-node";
export {
  buildKeysQuery,
  buildRangeQuery,
  type KeyRange,
  type KeysRow,
  type RangeRow,
  type SqlQuery,
} from "./sql-query";
export { createTransformer, type Transformer } from "./transform";
