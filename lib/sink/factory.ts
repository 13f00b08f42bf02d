import type { SinkRuntime } from "./backoff";
import type { DocumentSinkConfig } from "./config";
import type { DocumentWriter } from "./contract";
import { createSink } from "./search/search-sink";
import { createNdjsonSink, type TextStream } from "./stream/ndjson-sink";
import { createWebhookSink } from "./stream/webhook";

/** Optional collaborators of `createDocumentSink`. */
export interface DocumentSinkDependencies {
  /** Where the NDJSON sink writes when its path is `-` or unset (the CLI's stdout); `process.stdout` by default. */
  stdout?: TextStream;
  /** Clock, sleep and randomness of retries (tests). */
  runtime?: SinkRuntime;
}

/**
 * The one place a sink is made from configuration, for the CLI, the Lambdas and the benchmarks:
 * Elasticsearch or OpenSearch (`createSink`), the webhook (`createWebhookSink`) or NDJSON
 * (`createNdjsonSink`). Every kind is a `DocumentWriter`; `hasIndexAdmin` narrows to the search
 * engines' `SearchSink` (index administration), `isStreamSink` to the stream sinks' `StreamSink`
 * (truncate records). Contacts nothing; the first write does.
 * @throws ConfigError for an invalid configuration.
 */
export function createDocumentSink(
  config: DocumentSinkConfig,
  deps: DocumentSinkDependencies = {},
): DocumentWriter {
  const runtime = deps.runtime ? { runtime: deps.runtime } : {};
  switch (config.engine) {
    case "webhook":
      return createWebhookSink(config, runtime);
    case "ndjson":
      return createNdjsonSink(config, deps.stdout ? { stdout: deps.stdout } : {});
    default:
      return createSink(config, runtime);
  }
}
