import type { SinkRuntime } from "./backoff";
import type { DocumentSinkConfig } from "./config";
import { createSink } from "./search/search-sink";
import { createNdjsonSink, type TextStream } from "./stream/ndjson-sink";
import { createWebhookSink } from "./stream/webhook";
import type { DocumentSink } from "./types";

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
 * (`createNdjsonSink`). Every kind is a `DocumentSink`; `isStreamSink` tells the stream sinks
 * (no indices, no aliases) apart. Contacts nothing; the first write does.
 * @throws ConfigError for an invalid configuration.
 */
export function createDocumentSink(
  config: DocumentSinkConfig,
  deps: DocumentSinkDependencies = {},
): DocumentSink {
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
