import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../../lib/errors";
import {
  createSink,
  SINK_DEFAULTS,
  type SinkConfig,
  sinkConfigFromEnv,
  sinkConfigProblems,
  validateSinkConfig,
} from "../../../../lib/sink";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function problems(config: unknown): string[] {
  return sinkConfigProblems(config as SinkConfig).map((p) => `${p.where}: ${p.message}`);
}

describe("validateSinkConfig", () => {
  it("accepts minimal configs for both engines", () => {
    expect(problems({ engine: "elasticsearch", node: "https://es:9200" })).toEqual([]);
    expect(problems({ engine: "elasticsearch", cloudId: "dep:abc" })).toEqual([]);
    expect(
      problems({
        engine: "opensearch",
        node: ["https://a:9200", "https://b:9200"],
        auth: { type: "awsSigV4", region: "eu-west-1", service: "aoss" },
        caCertificate: PEM,
      }),
    ).toEqual([]);
  });

  it("names each wrong setting", () => {
    expect(problems({ engine: "solr" })).toEqual(['sink.engine: must be "elasticsearch" or "opensearch"']);
    expect(problems({ engine: "elasticsearch" })).toEqual(["sink.node: set a node URL or a Cloud ID"]);
    expect(problems({ engine: "elasticsearch", node: "https://x", cloudId: "c" })).toEqual([
      "sink.cloudId: set either node URLs or a Cloud ID, not both",
    ]);
    expect(problems({ engine: "opensearch", node: ["https://ok", "nope"] })).toEqual([
      "sink.node[1]: is not a URL; write it as https://host:port",
    ]);
    expect(
      problems({
        engine: "elasticsearch",
        node: "ftp://x",
        chunkSize: 0,
        chunkBytes: 10,
        maxRetries: 1.5,
        baseDelayMs: 500,
        maxDelayMs: 100,
        caCertificate: "/etc/ca.pem",
        auth: { type: "apiKey", id: "", secret: "" },
      }),
    ).toEqual([
      "sink.chunkSize: must be a whole number from 1 to 100000",
      "sink.chunkBytes: must be a whole number from 1024 to 2147483647",
      "sink.maxRetries: must be a whole number from 0 to 50",
      "sink.baseDelayMs: must not be larger than maxDelayMs",
      "sink.caCertificate: must be the PEM text of the certificate (read the file first), not a path",
      "sink.node: must start with http:// or https://",
      "sink.auth.id: is empty; set the API key id (ELASTICSEARCH_API_KEY_ID)",
      "sink.auth.secret: is empty; set the API key (ELASTICSEARCH_API_KEY)",
    ]);
    expect(
      problems({ engine: "opensearch", node: "https://x", auth: { type: "apiKey", encoded: "k" } }),
    ).toEqual(['sink.auth.type: must be "basic" or "awsSigV4" for OpenSearch']);
    expect(
      problems({ engine: "opensearch", node: "https://x", auth: { type: "awsSigV4", region: "" } }),
    ).toEqual(["sink.auth.region: is empty; set the AWS region of the domain or collection"]);
  });

  it("refuses credentials in a URL without echoing them", () => {
    const error = (() => {
      try {
        validateSinkConfig({ engine: "elasticsearch", node: "https://elastic:hunter22@es:9200" });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.where).toBe("sink.node");
    expect(error?.message).toMatch(/must not contain credentials/);
    expect(error?.message).not.toContain("hunter22");
  });

  it("is applied by createSink before any connection", () => {
    expect(() => createSink({ engine: "opensearch", node: "" as never })).toThrow(ConfigError);
  });
});

describe("sinkConfigFromEnv", () => {
  it("reads PGSync's names for Elasticsearch", () => {
    expect(
      sinkConfigFromEnv({
        ELASTICSEARCH_URL: "https://es1:9200, https://es2:9200/",
        ELASTICSEARCH_API_KEY_ID: "kid",
        ELASTICSEARCH_API_KEY: "ksecret",
        ELASTICSEARCH_TIMEOUT: "2.5",
        ELASTICSEARCH_CHUNK_SIZE: "2000",
        ELASTICSEARCH_MAX_CHUNK_BYTES: "104857600",
        ELASTICSEARCH_MAX_RETRIES: "0",
        ELASTICSEARCH_INITIAL_BACKOFF: "2",
        ELASTICSEARCH_MAX_BACKOFF: "600",
        ELASTICSEARCH_HTTP_COMPRESS: "true",
      }),
    ).toEqual({
      engine: "elasticsearch",
      node: ["https://es1:9200", "https://es2:9200"],
      auth: { type: "apiKey", id: "kid", secret: "ksecret" },
      requestTimeoutMs: 2500,
      chunkSize: 2000,
      chunkBytes: 104857600,
      maxRetries: 0,
      baseDelayMs: 2000,
      maxDelayMs: 600_000,
      compression: true,
    });
    expect(
      sinkConfigFromEnv({ ELASTICSEARCH_CLOUD_ID: "dep:xyz", ELASTICSEARCH_API_KEY: "encoded==" }),
    ).toEqual({
      engine: "elasticsearch",
      cloudId: "dep:xyz",
      auth: { type: "apiKey", encoded: "encoded==" },
    });
  });

  it("moves credentials out of a PGSync-style URL into basic auth", () => {
    expect(sinkConfigFromEnv({ ELASTICSEARCH_URL: "https://elastic:p%40ss@es:9200" })).toEqual({
      engine: "elasticsearch",
      node: ["https://es:9200"],
      auth: { type: "basic", username: "elastic", password: "p@ss" },
    });
  });

  it("reads OpenSearch with basic auth and SigV4 for the AWS services", () => {
    expect(
      sinkConfigFromEnv({
        OPENSEARCH: "true",
        ELASTICSEARCH_URL: "https://os:9200",
        ELASTICSEARCH_USER: "admin",
        ELASTICSEARCH_PASSWORD: "pw",
      }),
    ).toEqual({
      engine: "opensearch",
      node: ["https://os:9200"],
      auth: { type: "basic", username: "admin", password: "pw" },
    });
    expect(
      sinkConfigFromEnv({
        OPENSEARCH: "1",
        OPENSEARCH_AWS_HOSTED: "true",
        OPENSEARCH_AWS_SERVERLESS: "true",
        AWS_REGION: "eu-central-1",
        ELASTICSEARCH_URL: "https://abc.eu-central-1.aoss.amazonaws.com",
      }),
    ).toEqual({
      engine: "opensearch",
      node: ["https://abc.eu-central-1.aoss.amazonaws.com"],
      auth: { type: "awsSigV4", region: "eu-central-1", service: "aoss" },
    });
  });

  it("reads the CA certificate as PEM or through readFile", () => {
    expect(
      sinkConfigFromEnv({ ELASTICSEARCH_URL: "https://es", ELASTICSEARCH_CA_CERTS: PEM }).caCertificate,
    ).toBe(PEM);
    const readFile = (path: string) => (path === "/ca.pem" ? PEM : "");
    expect(
      sinkConfigFromEnv({ ELASTICSEARCH_URL: "https://es", ELASTICSEARCH_CA_CERTS: "/ca.pem" }, { readFile })
        .caCertificate,
    ).toBe(PEM);
  });

  it("names every wrong variable in one ConfigError and never echoes secrets", () => {
    let error: ConfigError | undefined;
    try {
      sinkConfigFromEnv({
        ELASTICSEARCH_URL: "not a url with hunter22",
        ELASTICSEARCH_TIMEOUT: "soon",
        ELASTICSEARCH_HTTP_COMPRESS: "maybe",
        ELASTICSEARCH_API_KEY_ID: "kid",
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.where).toBe("ELASTICSEARCH_TIMEOUT");
    expect(error?.message).toBe(
      "ELASTICSEARCH_TIMEOUT: must be a non-negative number; ELASTICSEARCH_HTTP_COMPRESS: must be true or false; " +
        "ELASTICSEARCH_URL: is not a URL; write it as https://host:port; " +
        "ELASTICSEARCH_API_KEY: must be set with ELASTICSEARCH_API_KEY_ID",
    );
    expect(error?.message).not.toContain("hunter22");
  });

  it("reports range problems under the variable that set them", () => {
    expect(() =>
      sinkConfigFromEnv({ ELASTICSEARCH_URL: "https://es", ELASTICSEARCH_CHUNK_SIZE: "0" }),
    ).toThrow(/ELASTICSEARCH_CHUNK_SIZE: must be a whole number from 1 to 100000/);
    expect(() => sinkConfigFromEnv({ OPENSEARCH: "true" })).toThrow(/ELASTICSEARCH_URL: must be set/);
    expect(() =>
      sinkConfigFromEnv({ OPENSEARCH: "true", OPENSEARCH_AWS_HOSTED: "1", ELASTICSEARCH_URL: "https://x" }),
    ).toThrow(/ELASTICSEARCH_AWS_REGION/);
    expect(() =>
      sinkConfigFromEnv({ ELASTICSEARCH_AWS_HOSTED: "1", ELASTICSEARCH_URL: "https://x" }),
    ).toThrow(/OPENSEARCH: must be true for Amazon OpenSearch Service/);
  });

  it("leaves unset tuning to the defaults", () => {
    expect(SINK_DEFAULTS).toMatchObject({
      chunkSize: 500,
      chunkBytes: 5 * 1024 * 1024,
      requestTimeoutMs: 10_000,
    });
    expect(Object.keys(sinkConfigFromEnv({ ELASTICSEARCH_URL: "https://es" }))).toEqual(["engine", "node"]);
  });
});
