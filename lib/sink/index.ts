/**
 * The document sink: writes to and manages indices on Elasticsearch 8/9 or OpenSearch 2, or emits
 * operations as a stream (a signed webhook, NDJSON to stdout or a file).
 *
 * ```ts
 * const sink = createSink(sinkConfigFromEnv(process.env));
 * const { outcomes, stats } = await sink.write(ops, { deadline });
 * ```
 */
export { type AdaptiveSettings, AdaptiveSizer, type BulkObservation } from "./adaptive";
export type { SinkRuntime } from "./backoff";
export { systemRuntime } from "./backoff";
export { DEADLINE_ERROR } from "./bulk";
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
export { createDocumentSink, type DocumentSinkDependencies } from "./factory";
export { MAX_ID_BYTES, MAX_VERSION } from "./ndjson";
export {
  createNdjsonSink,
  NdjsonSink,
  type NdjsonSinkDependencies,
  type TextStream,
} from "./ndjson-stream";
export { createSink, SearchSink, type SinkDependencies, TOMBSTONE_INDEX_SETTINGS } from "./sink";
export { isStreamSink, StreamSink } from "./stream";
export {
  type DocumentSinkConfig,
  isStreamSinkConfig,
  MIN_WEBHOOK_SECRET_LENGTH,
  type NdjsonSinkConfig,
  type StreamSinkConfig,
  streamSinkConfigProblems,
  validateStreamSinkConfig,
  WEBHOOK_DEFAULTS,
  type WebhookSinkConfig,
} from "./stream-config";
export { documentSinkConfigFromEnv, SINK_KINDS, sinkKindFromEnv } from "./stream-env";
export { ALL_DOCUMENTS_ID, encodeStreamRecord, STREAM_FORMAT_VERSION } from "./stream-format";
export type {
  DeleteOperation,
  DocumentLocation,
  DocumentRef,
  DocumentSink,
  DocumentWriter,
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
  WriteOptions,
  WriteResult,
  WriteStats,
} from "./types";
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
} from "./webhook";
