/**
 * The document sink: writes to and manages indices on Elasticsearch 8/9 or OpenSearch 2, or emits
 * operations as a stream (a signed webhook, NDJSON to stdout or a file).
 *
 * ```ts
 * const sink = createSink(sinkConfigFromEnv(process.env));
 * const { outcomes, stats } = await sink.write(ops, { deadline });
 * ```
 */

export type { SinkRuntime } from "./backoff";
export { systemRuntime } from "./backoff";
export { type DocumentSinkConfig, isStreamSinkConfig } from "./config";
export {
  type DocumentWriter,
  hasIndexAdmin,
  type IndexAdmin,
  indexAdminOf,
  isStreamSink,
  requireIndexAdmin,
  type SearchSink,
  type StreamSink,
} from "./contract";
export { documentSinkConfigFromEnv, SINK_KINDS, sinkKindFromEnv } from "./env";
export { SinkError, type SinkErrorOptions } from "./errors";
export { createDocumentSink, type DocumentSinkDependencies } from "./factory";
export { type AdaptiveSettings, AdaptiveSizer, type BulkObservation } from "./search/adaptive";
export { MAX_ID_BYTES } from "./search/bulk-encoding";
export type {
  AwsCredentials,
  ElasticsearchAuth,
  ElasticsearchSinkConfig,
  OpenSearchAuth,
  OpenSearchSinkConfig,
  SinkConfig,
  SinkTuning,
} from "./search/config";
export { SINK_DEFAULTS, sinkConfigProblems, validateSinkConfig } from "./search/config";
export { type SinkEnv, sinkConfigFromEnv } from "./search/env";
export {
  createSink,
  SearchEngineSink,
  type SinkDependencies,
  TOMBSTONE_INDEX_SETTINGS,
} from "./search/search-sink";
export type { SinkConfigProblem } from "./settings-check";
export {
  MIN_WEBHOOK_SECRET_LENGTH,
  type NdjsonSinkConfig,
  type StreamSinkConfig,
  streamSinkConfigProblems,
  validateStreamSinkConfig,
  WEBHOOK_DEFAULTS,
  type WebhookSinkConfig,
} from "./stream/config";
export {
  createNdjsonSink,
  NdjsonSink,
  type NdjsonSinkDependencies,
  type TextStream,
} from "./stream/ndjson-sink";
export { encodeStreamRecord, STREAM_FORMAT_VERSION } from "./stream/record-format";
export {
  createWebhookSink,
  DELIVERY_HEADER,
  type FetchLike,
  parseRetryAfter,
  SIGNATURE_HEADER,
  signWebhookBody,
  verifyWebhookSignature,
  WebhookSink,
  type WebhookSinkDependencies,
  webhookSignedString,
} from "./stream/webhook";
export type {
  DeleteOperation,
  DocumentLocation,
  DocumentRef,
  Engine,
  EngineInfo,
  IndexBody,
  IndexOperation,
  OutcomeStatus,
  SinkKind,
  SinkOperation,
  SinkOutcome,
  StoredDocument,
  StreamEngine,
  StreamOperation,
  TruncateOperation,
  WriteOptions,
  WriteResult,
  WriteStats,
} from "./types";
export { MAX_VERSION } from "./types";
export { DEADLINE_ERROR } from "./write-core";
