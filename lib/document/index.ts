/**
 * Builds the nested documents of a resolved schema from PostgreSQL, PGSync-compatible.
 */
export { createDocumentBuilder, DocumentBuilder, type DocumentResult, type KeysResult } from "./builder";
export { DocumentError, PluginError } from "./errors";
export { buildIndexBody } from "./index-body";
export { type JsonObject, parseJson, stringifyJson } from "./json";
export { documentId, ID_DELIMITER, keyText } from "./keys";
export {
  type DocumentPlugin,
  isDropped,
  loadPlugins,
  type PluginContext,
  pluginModuleNames,
} from "./plugins";
export { sourceText } from "./source-text";
export { nodeObjectSql } from "./sql-node";
export { buildKeysQuery, buildRangeQuery, type KeyRange } from "./sql-query";
export { createTransformer } from "./transform";
