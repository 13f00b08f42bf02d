/**
 * The document sink: writes to and manages indices on Elasticsearch 8/9 or OpenSearch 2.
 *
 * ```ts
 * const sink = createSink(sinkConfigFromEnv(process.env));
 * const { outcomes, stats } = await sink.write(ops, { deadline });
 * ```
 */
export type { SinkRuntime } from "./backoff";
export { systemRuntime } from "./backoff";
export type {
  AwsCredentials,
  ElasticsearchAuth,
  ElasticsearchSinkConfig,
  OpenSearchAuth,
  OpenSearchSinkConfig,
  SinkConfig,
  SinkConfigProblem,
  SinkTuning,
} from "./config";
export { SINK_DEFAULTS, sinkConfigProblems, validateSinkConfig } from "./config";
export { type SinkEnv, sinkConfigFromEnv } from "./env";
export { SinkError, type SinkErrorOptions } from "./errors";
export { MAX_ID_BYTES, MAX_VERSION } from "./ndjson";
export { createSink, type SinkDependencies, TOMBSTONE_INDEX_SETTINGS } from "./sink";
export type {
  DeleteOperation,
  DocumentRef,
  DocumentSink,
  Engine,
  EngineInfo,
  IndexBody,
  IndexOperation,
  OutcomeStatus,
  SinkOperation,
  SinkOutcome,
  StoredDocument,
  WriteOptions,
  WriteResult,
  WriteStats,
} from "./types";
