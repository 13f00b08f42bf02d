import { describe, expect, it } from "vitest";
import {
  createDocumentSink,
  type DocumentWriter,
  hasIndexAdmin,
  indexAdminOf,
  isStreamSink,
  requireIndexAdmin,
  SinkError,
} from "../../../lib/sink";

// Creating a sink contacts nothing, so every kind can be made here without a server.
const kinds: Record<string, DocumentWriter> = {
  elasticsearch: createDocumentSink({ engine: "elasticsearch", node: "http://localhost:1" }),
  opensearch: createDocumentSink({ engine: "opensearch", node: "http://localhost:1" }),
  webhook: createDocumentSink({ engine: "webhook", url: "https://hooks.example/in", secret: "s".repeat(16) }),
  ndjson: createDocumentSink({ engine: "ndjson" }, { stdout: { write: () => true } }),
};

describe("the sink contract's capabilities", () => {
  it("gives index administration to the search engines only", () => {
    for (const [kind, sink] of Object.entries(kinds)) {
      const search = kind === "elasticsearch" || kind === "opensearch";
      expect(sink.engine).toBe(kind);
      expect(hasIndexAdmin(sink)).toBe(search);
      expect(isStreamSink(sink)).toBe(!search);
      expect(indexAdminOf(sink)).toBe(search ? sink : undefined);
    }
  });

  it("a search engine has every administration method; a stream sink has none of them", () => {
    const admin = ["createIndex", "deleteIndex", "getAliasTargets", "swapAlias", "count", "scan", "scanIds"];
    for (const name of admin) {
      expect(typeof (kinds.opensearch as unknown as Record<string, unknown>)[name]).toBe("function");
      expect((kinds.webhook as unknown as Record<string, unknown>)[name]).toBeUndefined();
      expect((kinds.ndjson as unknown as Record<string, unknown>)[name]).toBeUndefined();
    }
  });

  it("refuses a stream sink for an index command, naming the command and the fix", () => {
    expect(requireIndexAdmin(kinds.elasticsearch as DocumentWriter, "slotsync verify")).toBe(
      kinds.elasticsearch,
    );
    let thrown: unknown;
    try {
      requireIndexAdmin(kinds.webhook as DocumentWriter, "slotsync verify");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SinkError);
    const error = thrown as SinkError;
    expect(error.message).toBe(
      "slotsync verify needs a search engine, and the webhook sink keeps no indices",
    );
    expect(error.where).toBe("SINK");
    expect(error.errorType).toBe("not_supported");
    expect(error.retryable).toBe(false);
    expect(error.fix).toMatch(/SINK=elasticsearch or SINK=opensearch/);
  });
});
