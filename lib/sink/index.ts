/**
 * Where documents go: Elasticsearch 8/9 or OpenSearch 2, or a stream of records (a signed webhook,
 * NDJSON to stdout or a file). Every sink is a `DocumentWriter`; index administration is the
 * optional `SearchSink` capability of the search engines (see docs/internals/sinks.md).
 *
 * ```ts
 * const sink = createDocumentSink(documentSinkConfigFromEnv(env));
 * const { outcomes, stats } = await sink.write(ops, { deadline });
 * const admin = indexAdminOf(sink); // undefined for a stream sink
 * ```
 *
 * Exported here: what other folders, the Lambdas, the benchmarks and the tests use.
 */
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
export { documentSinkConfigFromEnv } from "./env";
export { SinkError } from "./errors";
export { createDocumentSink } from "./factory";
export type { SinkConfig, SinkTuning } from "./search/config";
export { SINK_DEFAULTS, sinkConfigProblems, validateSinkConfig } from "./search/config";
export { sinkConfigFromEnv } from "./search/env";
export { createSink, TOMBSTONE_INDEX_SETTINGS } from "./search/search-sink";
export type { WebhookSinkConfig } from "./stream/config";
export { createNdjsonSink } from "./stream/ndjson-sink";
export {
  createWebhookSink,
  type FetchLike,
  parseRetryAfter,
  signWebhookBody,
  verifyWebhookSignature,
} from "./stream/webhook";
export type {
  DocumentLocation,
  IndexBody,
  SinkOperation,
  SinkOutcome,
  StreamOperation,
  TruncateOperation,
  WriteOptions,
  WriteResult,
  WriteStats,
} from "./types";
export { SourceText } from "./types";
export { DEADLINE_ERROR } from "./write-core";
