import { describe, expect, expectTypeOf, it } from "vitest";
import { LATENCY_POLL_INTERVAL_SECONDS, loadConfig, type QueueConfig } from "../../../lib/config";
import { ConfigError } from "../../../lib/errors";
import type { DocumentSinkConfig, SinkConfig } from "../../../lib/sink";

const base = {
  PG_URL: "postgresql://u:secret-pw@db:5432/app",
  SCHEMA: "schema.json",
  ELASTICSEARCH_URL: "https://es:9200",
  UPSTASH_REDIS_REST_URL: "https://eu1.upstash.io",
  UPSTASH_REDIS_REST_TOKEN: "tok-123",
  SQS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/1/q",
};

function error(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("reads a complete Lambda configuration with PGSync's names", () => {
    const config = loadConfig(
      {
        ...base,
        ELASTICSEARCH_API_KEY_ID: "id1",
        ELASTICSEARCH_API_KEY: "k1",
        ELASTICSEARCH_CHUNK_SIZE: "50",
        WAL_WARNING_THRESHOLD_GB: "12",
        WAL_CRITICAL_THRESHOLD_GB: "15",
      },
      { pg: true, schema: true, sink: true, upstash: true, queue: true },
    );
    expect(config.pgUrl).toBe(base.PG_URL);
    expect(config.state).toEqual({ kind: "upstash", url: base.UPSTASH_REDIS_REST_URL, token: "tok-123" });
    expect(config.sink?.engine).toBe("elasticsearch");
    expect((config.sink as SinkConfig | undefined)?.chunkSize).toBe(50);
    expect(config.queue?.region).toBe("us-east-1");
    expect(config.alerts.warningBytes).toBe(12n * 1024n ** 3n);
    expect(config.alerts.criticalBytes).toBe(15n * 1024n ** 3n);
  });

  it("types the parts a command declares as needed as present, and the others as optional", () => {
    const needed = loadConfig(base, { sink: true, queue: true, upstash: true });
    expectTypeOf(needed.sink).toMatchTypeOf<DocumentSinkConfig>();
    expectTypeOf(needed.queue).toMatchTypeOf<QueueConfig>();
    expectTypeOf(needed.state.token).toBeString();
    // Present at run time too: no cast or check stands between the command and its parts.
    expect(needed.queue.url).toBe(base.SQS_QUEUE_URL);
    expect(needed.sink.engine).toBe("elasticsearch");
    expect(needed.state.token).toBe("tok-123");

    const optional = loadConfig({ PG_URL: base.PG_URL }, { pg: true });
    expectTypeOf(optional.queue).toEqualTypeOf<QueueConfig | undefined>();
    expect(optional.queue).toBeUndefined();
    expect(optional.sink).toBeUndefined();
  });

  it("names every missing variable at once, and only those the command needs", () => {
    const err = error(() =>
      loadConfig({}, { pg: true, schema: true, sink: true, upstash: true, queue: true }),
    );
    for (const key of ["PG_URL", "SCHEMA", "ELASTICSEARCH_URL", "UPSTASH_REDIS_REST_URL", "SQS_QUEUE_URL"]) {
      expect(err.message).toContain(key);
    }
    expect(err.where).toBe("PG_URL");
    expect(() => loadConfig({ SCHEMA: "s.json" }, { schema: true })).not.toThrow();
  });

  it("falls back to a local state file without Upstash, unless Upstash is required", () => {
    expect(loadConfig({}, {}).state).toEqual({ kind: "file", dir: ".slotsync/state" });
    expect(error(() => loadConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" })).message).toContain(
      "UPSTASH_REDIS_REST_TOKEN",
    );
  });

  it("polls every second in economy mode and every 0.25 s in latency mode, unless POLL_INTERVAL_SECONDS says", () => {
    expect(loadConfig({}).poller.pollIntervalMs).toBe(1000);
    expect(loadConfig({ POLLER_MODE: "latency" }).poller.pollIntervalMs).toBe(
      LATENCY_POLL_INTERVAL_SECONDS * 1000,
    );
    expect(loadConfig({ POLLER_MODE: "latency", POLL_INTERVAL_SECONDS: "2" }).poller.pollIntervalMs).toBe(
      2000,
    );
    expect(loadConfig({ POLLER_MODE: "economy", POLL_INTERVAL_SECONDS: "0.5" }).poller.pollIntervalMs).toBe(
      500,
    );
  });

  it("refuses bad values by name without echoing them", () => {
    const err = error(() =>
      loadConfig({
        PG_URL: "mysql://root:hunter2@x/db",
        POLL_INTERVAL_SECONDS: "soon",
        SLOTSYNC_SLOT: "Bad-Slot",
        WAL_WARNING_THRESHOLD_GB: "20",
        WAL_CRITICAL_THRESHOLD_GB: "10",
      }),
    );
    expect(err.message).toContain("PG_URL must be a postgres or postgresql URL");
    expect(err.message).toContain("POLL_INTERVAL_SECONDS must be a number");
    expect(err.message).toContain("SLOTSYNC_SLOT must be");
    expect(err.message).toContain("WAL_WARNING_THRESHOLD_GB must be below WAL_CRITICAL_THRESHOLD_GB");
    expect(err.message).not.toContain("hunter2");
  });

  it("merges the search engine's own problems under their variables", () => {
    const err = error(() =>
      loadConfig(
        { ELASTICSEARCH_URL: "https://es:9200", ELASTICSEARCH_API_KEY_ID: "only-id" },
        { sink: true },
      ),
    );
    expect(err.message).toContain("ELASTICSEARCH_API_KEY");
    const os = loadConfig({ ELASTICSEARCH_URL: "https://os:443", OPENSEARCH: "true" }, { sink: true });
    expect(os.sink?.engine).toBe("opensearch");
  });
});
