import type { SinkConfig } from "./search/config";
import type { StreamSinkConfig } from "./stream/config";

/** Configuration of any sink: a search engine (`SinkConfig`) or a stream. */
export type DocumentSinkConfig = SinkConfig | StreamSinkConfig;

/** True for the stream sink configurations. */
export function isStreamSinkConfig(config: DocumentSinkConfig): config is StreamSinkConfig {
  return config.engine === "webhook" || config.engine === "ndjson";
}
