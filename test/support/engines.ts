import type { SinkConfig } from "../../lib/sink";
import { getServices } from "./services";

/** Both real search engines, for `describe.each`. `node` may point through a fault proxy. */
export const ENGINES: {
  name: "elasticsearch" | "opensearch";
  url: () => string;
  config: (node?: string) => SinkConfig;
}[] = [
  {
    name: "elasticsearch",
    url: () => getServices().elasticsearch.url,
    config: (node) => {
      const { url, username, password } = getServices().elasticsearch;
      return { engine: "elasticsearch", node: node ?? url, auth: { type: "basic", username, password } };
    },
  },
  {
    name: "opensearch",
    url: () => getServices().opensearch.url,
    config: (node) => ({ engine: "opensearch", node: node ?? getServices().opensearch.url }),
  },
];
