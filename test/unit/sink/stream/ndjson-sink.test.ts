import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../../lib/errors";
import {
  createNdjsonSink,
  documentSinkConfigFromEnv,
  type SinkOperation,
  SourceText,
} from "../../../../lib/sink";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-ndjson-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const put = (id: string, version: bigint, source: Record<string, unknown>): SinkOperation => ({
  kind: "index",
  index: "books",
  id,
  version,
  source,
});

/** A stdout that keeps what is written to it. */
function captured(): { stdout: { write(t: string): boolean }; text: () => string } {
  let written = "";
  return {
    stdout: {
      write(t: string) {
        written += t;
        return true;
      },
    },
    text: () => written,
  };
}

describe("NDJSON sink", () => {
  it("writes one record per operation and line to the given stdout", async () => {
    const { stdout, text } = captured();
    const sink = createNdjsonSink({ engine: "ndjson" }, { stdout });
    const result = await sink.write([
      put("1", 2n ** 63n - 1n, { title: "Matilda", tags: ["a"] }),
      { kind: "delete", index: "books", id: "2", version: 5n, routing: "r" },
      { kind: "truncate", index: "books", version: 6n },
    ]);
    expect(result.stats).toMatchObject({ operations: 3, indexed: 1, deleted: 2, rejected: 0 });
    expect(text()).toBe(
      '{"op":"index","index":"books","id":"1","version":"9223372036854775807","source":{"title":"Matilda","tags":["a"]}}\n' +
        '{"op":"delete","index":"books","id":"2","version":"5","routing":"r"}\n' +
        '{"op":"truncate","index":"books","version":"6"}\n',
    );
  });

  it("embeds a source given as text as it is", async () => {
    const { stdout, text } = captured();
    const sink = createNdjsonSink({ engine: "ndjson" }, { stdout });
    const source = SourceText.of('{"title" : "Matilda", "id" : 9007199254740993}');
    if (!source) throw new Error("refused a valid source");
    const result = await sink.write([{ kind: "index", index: "books", id: "1", version: 2n, source }]);
    expect(result.stats).toMatchObject({ indexed: 1, rejected: 0 });
    expect(text()).toBe(
      '{"op":"index","index":"books","id":"1","version":"2","source":{"title" : "Matilda", "id" : 9007199254740993}}\n',
    );
  });

  it("appends to a file; concurrent writes never interleave within a line", async () => {
    const path = join(dir, "out.ndjson");
    const sink = createNdjsonSink({ engine: "ndjson", path });
    const big = { text: "x".repeat(200_000) };
    await Promise.all(
      Array.from({ length: 8 }, (_, w) =>
        sink.write(Array.from({ length: 5 }, (_, i) => put(`${w}-${i}`, BigInt(i), big))),
      ),
    );
    await sink.close();
    const again = createNdjsonSink({ engine: "ndjson", path });
    await again.write([put("last", 1n, {})]);
    await again.close();
    const lines = (await readFile(path, "utf8")).split("\n").filter(Boolean);
    expect(lines).toHaveLength(41);
    const ids = lines.map((l) => (JSON.parse(l) as { id: string }).id);
    expect(new Set(ids).size).toBe(41);
    expect(ids.at(-1)).toBe("last");
  });

  it("a file that cannot be opened makes every operation retryable with the cause", async () => {
    const sink = createNdjsonSink({ engine: "ndjson", path: join(dir, "missing-dir", "x.ndjson") });
    const result = await sink.write([put("1", 1n, {})]);
    expect(result.outcomes[0]).toMatchObject({ status: "retryable", errorType: "io" });
    expect(result.outcomes[0]?.reason).toContain("ENOENT");
    await sink.close();
  });
});

describe("SINK and the stream sinks' environment", () => {
  it("defaults from OPENSEARCH, so existing deployments keep their engine", () => {
    const es = { ELASTICSEARCH_URL: "http://localhost:9200" };
    expect(documentSinkConfigFromEnv(es).engine).toBe("elasticsearch");
    expect(documentSinkConfigFromEnv({ ...es, OPENSEARCH: "true" }).engine).toBe("opensearch");
    expect(documentSinkConfigFromEnv({ ...es, SINK: "opensearch" }).engine).toBe("opensearch");
    expect(() => documentSinkConfigFromEnv({ ...es, SINK: "elasticsearch", OPENSEARCH: "true" })).toThrow(
      /OPENSEARCH: contradicts SINK=elasticsearch/,
    );
  });

  it("reads the webhook and NDJSON settings, seconds to ms", () => {
    expect(
      documentSinkConfigFromEnv({
        SINK: "webhook",
        WEBHOOK_URL: "https://example.com/hook",
        WEBHOOK_SECRET: "0123456789abcdef",
        WEBHOOK_BATCH_SIZE: "50",
        WEBHOOK_TIMEOUT: "2.5",
        WEBHOOK_INITIAL_BACKOFF: "0.1",
      }),
    ).toEqual({
      engine: "webhook",
      url: "https://example.com/hook",
      secret: "0123456789abcdef",
      batchSize: 50,
      requestTimeoutMs: 2500,
      baseDelayMs: 100,
    });
    expect(documentSinkConfigFromEnv({ SINK: "ndjson" })).toEqual({ engine: "ndjson" });
    expect(documentSinkConfigFromEnv({ SINK: "ndjson", NDJSON_PATH: "/tmp/x" })).toEqual({
      engine: "ndjson",
      path: "/tmp/x",
    });
  });

  it("names every bad key in one ConfigError and never echoes the secret", () => {
    const read = () =>
      documentSinkConfigFromEnv({
        SINK: "webhook",
        WEBHOOK_URL: "ftp://example.com",
        WEBHOOK_SECRET: "too-short",
        WEBHOOK_BATCH_SIZE: "0",
      });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(
      "WEBHOOK_URL: must start with https:// or http://; WEBHOOK_SECRET: must be at least 16 characters (e.g. openssl rand -hex 32); WEBHOOK_BATCH_SIZE: must be a whole number from 1 to 100000",
    );
    expect(read).not.toThrow(/too-short/);
    expect(() => documentSinkConfigFromEnv({ SINK: "webhook" })).toThrow(
      /WEBHOOK_URL: is required with SINK=webhook.*WEBHOOK_SECRET: is required/,
    );
    expect(() => documentSinkConfigFromEnv({ SINK: "kafka" })).toThrow(
      "SINK: must be one of elasticsearch, opensearch, webhook, ndjson",
    );
  });
});

describe("loadConfig with a stream sink", () => {
  it("reads SINK=webhook at start-up and reports a bad webhook key by name", async () => {
    const { loadConfig } = await import("../../../../lib/config");
    const base = { PG_URL: "postgresql://u@localhost/db", SCHEMA: "schema.json" };
    const config = loadConfig(
      { ...base, SINK: "webhook", WEBHOOK_URL: "https://example.com/h", WEBHOOK_SECRET: "0123456789abcdef" },
      { pg: true, schema: true, sink: true },
    );
    expect(config.sink).toEqual({
      engine: "webhook",
      url: "https://example.com/h",
      secret: "0123456789abcdef",
    });
    expect(() => loadConfig({ ...base, SINK: "webhook" }, { sink: true })).toThrow(
      expect.objectContaining({ where: "WEBHOOK_URL" }),
    );
    // Without SINK or ELASTICSEARCH_URL a command that needs no sink gets none.
    expect(loadConfig(base, {}).sink).toBeUndefined();
    expect(loadConfig({ ...base, SINK: "ndjson" }, {}).sink).toEqual({ engine: "ndjson" });
  });
});
