import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../../lib/sink/backoff";
import { parseWithExactIntegers, toBigIntVersion } from "../../../../lib/sink/exact-json";
import { classifyItem, classifyRequestStatus, describeError } from "../../../../lib/sink/search/classify";

const err = (type: string, reason = `${type} reason`) => ({ type, reason });

describe("classifyItem", () => {
  it.each([
    ["index created", { index: { status: 201, result: "created" } }, "ok", undefined],
    [
      "index updated (equal version, re-delivery)",
      { index: { status: 200, result: "updated" } },
      "ok",
      undefined,
    ],
    ["delete done", { delete: { status: 200, result: "deleted" } }, "ok", undefined],
    ["delete of a missing doc", { delete: { status: 404, result: "not_found" } }, "ok", undefined],
    [
      "version conflict",
      { index: { status: 409, error: err("version_conflict_engine_exception") } },
      "stale",
      undefined,
    ],
    [
      "rejected execution",
      { index: { status: 429, error: err("es_rejected_execution_exception") } },
      "retry",
      undefined,
    ],
    [
      "unavailable shards",
      { index: { status: 503, error: err("unavailable_shards_exception") } },
      "retry",
      undefined,
    ],
    ["internal error", { delete: { status: 500, error: err("exception") } }, "retry", undefined],
    ["mapping", { index: { status: 400, error: err("mapper_parsing_exception") } }, "rejected", undefined],
    [
      "parsing (ES 8)",
      { index: { status: 400, error: err("document_parsing_exception") } },
      "rejected",
      undefined,
    ],
    [
      "strict",
      { index: { status: 400, error: err("strict_dynamic_mapping_exception") } },
      "rejected",
      undefined,
    ],
    [
      "illegal argument",
      { index: { status: 400, error: err("illegal_argument_exception") } },
      "rejected",
      undefined,
    ],
    [
      "missing index",
      { delete: { status: 404, error: err("index_not_found_exception") } },
      "rejected",
      "index_not_found",
    ],
    ["no privilege", { index: { status: 403, error: err("security_exception") } }, "rejected", "forbidden"],
    ["no status", { index: {} }, "retry", undefined],
    ["not an object", "oops", "retry", undefined],
  ])("%s", (_name, item, status, fatal) => {
    const verdict = classifyItem(item);
    expect(verdict.status).toBe(status);
    expect(verdict.fatal).toBe(fatal);
  });

  it("rejects an ingest processor's failure, even as a 500, naming the pipeline and the processor", () => {
    const verdict = classifyItem({
      index: {
        status: 500,
        error: {
          type: "fail_processor_exception",
          reason: "title is missing",
          header: { processor_type: "fail", pipeline_origin: ["books-enrich"] },
        },
      },
    });
    expect(verdict).toMatchObject({
      status: "rejected",
      httpStatus: 500,
      errorType: "fail_processor_exception",
    });
    expect(verdict.reason).toBe(
      'ingest pipeline "books-enrich", fail processor failed: fail_processor_exception: title is missing',
    );
    const nested = classifyItem({
      index: {
        status: 400,
        error: {
          type: "illegal_argument_exception",
          reason: "x",
          caused_by: { type: "script_exception", reason: "runtime error", processor_type: "script" },
        },
      },
    });
    expect(nested).toMatchObject({ status: "rejected" });
    expect(nested.reason).toMatch(/^the ingest pipeline, script processor failed: /);
    // Pushback stays pushback, pipeline or not.
    const busy = classifyItem({
      index: {
        status: 429,
        error: { type: "es_rejected_execution_exception", reason: "busy", processor_type: "set" },
      },
    });
    expect(busy.status).toBe("retry");
  });

  it("keeps the engine's type and reason, caused-by included", () => {
    const verdict = classifyItem({
      index: {
        status: 400,
        error: {
          type: "document_parsing_exception",
          reason: "failed to parse field [n]",
          caused_by: { type: "number_format_exception", reason: 'For input string: "abc"' },
        },
      },
    });
    expect(verdict).toMatchObject({
      httpStatus: 400,
      errorType: "document_parsing_exception",
      reason: 'failed to parse field [n] (caused by number_format_exception: For input string: "abc")',
    });
  });
});

describe("classifyRequestStatus", () => {
  it.each([
    [200, "items"],
    [401, "auth"],
    [403, "auth"],
    [400, "split"],
    [413, "split"],
    [408, "retry"],
    [429, "retry"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
    [504, "retry"],
    [404, "fatal"],
    [405, "fatal"],
    [406, "fatal"],
  ])("HTTP %i -> %s", (status, verdict) => {
    expect(classifyRequestStatus(status)).toBe(verdict);
  });
});

describe("describeError", () => {
  it("reads whole error responses, plain text and nothing", () => {
    expect(describeError({ error: { type: "t", reason: "r" }, status: 400 })).toEqual({
      type: "t",
      reason: "r",
    });
    expect(describeError({ error: "alias [x] missing", status: 404 })).toEqual({
      type: undefined,
      reason: "alias [x] missing",
    });
    expect(describeError("  413 Request Entity Too Large  ")).toEqual({
      type: undefined,
      reason: "413 Request Entity Too Large",
    });
    expect(describeError(undefined)).toEqual({ type: undefined, reason: "" });
    expect(describeError({ type: "t", reason: "x".repeat(600) }).reason).toHaveLength(500);
  });
});

describe("backoffDelay (full jitter)", () => {
  it("stays in [0, min(max, base * 2^round))", () => {
    for (let round = 0; round < 12; round++) {
      const cap = Math.min(10_000, 200 * 2 ** round);
      expect(backoffDelay(round, 200, 10_000, () => 0)).toBe(0);
      const top = backoffDelay(round, 200, 10_000, () => 0.999999);
      expect(top).toBeLessThan(cap);
      expect(top).toBeGreaterThanOrEqual(cap - 1);
    }
  });

  it("is uniform over the window, and capped for huge rounds", () => {
    expect(backoffDelay(2, 100, 10_000, () => 0.5)).toBe(200);
    expect(backoffDelay(5000, 100, 10_000, () => 0.5)).toBe(5000);
  });
});

describe("parseWithExactIntegers", () => {
  it("keeps 64-bit versions exact at the given depth only", () => {
    const text =
      '{"docs":[{"_id":"a","_version":9223372036854775807,"_source":{"_version":9007199254740993,"s":"\\"_version\\":1"}},' +
      '{"_id":"b", "_version" : 9007199254740993 ,"found":true}]}';
    const parsed = parseWithExactIntegers(text, "_version", 3) as {
      docs: { _version: unknown; _source?: { _version: unknown; s: string } }[];
    };
    expect(parsed.docs[0]?._version).toBe("9223372036854775807");
    expect(parsed.docs[1]?._version).toBe("9007199254740993");
    // Inside _source (deeper) the field keeps its JSON type.
    expect(typeof parsed.docs[0]?._source?._version).toBe("number");
    expect(parsed.docs[0]?._source?.s).toBe('"_version":1');
    expect(toBigIntVersion(parsed.docs[0]?._version)).toBe(2n ** 63n - 1n);
  });

  it("handles escaped quotes and backslashes in strings before the key", () => {
    const text = '{"hits":{"hits":[{"_id":"x\\\\","t":"a\\"b{[","_version":12}]}}';
    const parsed = parseWithExactIntegers(text, "_version", 4) as { hits: { hits: { _version: unknown }[] } };
    expect(parsed.hits.hits[0]?._version).toBe("12");
  });

  it("leaves non-integers to JSON.parse", () => {
    expect(parseWithExactIntegers('{"_version":1.5}', "_version", 1)).toEqual({ _version: 1.5 });
    expect(() => toBigIntVersion(1.5)).toThrow(TypeError);
  });
});
