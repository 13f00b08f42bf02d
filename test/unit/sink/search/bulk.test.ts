import { describe, expect, it } from "vitest";
import { SinkError } from "../../../../lib/sink/errors";
import type { SinkTuning } from "../../../../lib/sink/search/config";
import { SearchEngineSink } from "../../../../lib/sink/search/search-sink";
import {
  type EngineRequest,
  type EngineResponse,
  TransportFailure,
} from "../../../../lib/sink/search/transport";
import type { SinkOperation } from "../../../../lib/sink/types";
import {
  type BulkAction,
  bulkResponse,
  errorResponse,
  FakeRuntime,
  FakeTransport,
  itemError,
  itemOk,
  tuning,
} from "./fakes";

type Handler = (request: EngineRequest, bulk: BulkAction[], call: number) => EngineResponse | Error;

function setup(handler: Handler, overrides: SinkTuning = {}, secrets: string[] = []) {
  const transport = new FakeTransport(handler, secrets);
  const runtime = new FakeRuntime();
  const sink = new SearchEngineSink(transport, tuning(overrides), runtime);
  return { transport, runtime, sink };
}

const ok: Handler = (_req, bulk) => bulkResponse(bulk);

function indexOps(n: number, sourceBytes = 10): SinkOperation[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: "index" as const,
    index: "books",
    id: `id${i}`,
    version: BigInt(i + 1),
    source: { pad: "x".repeat(sourceBytes) },
    ref: `msg-${i}`,
  }));
}

// Fixed sizing (adaptive: false) where a test is about the request mechanics, not the sizing.
describe("write: chunking", () => {
  it("cuts requests by count and keeps outcomes in order with the caller's ref", async () => {
    const { sink, transport } = setup(ok, { chunkSize: 2, adaptive: false });
    const { outcomes, stats } = await sink.write(indexOps(5));
    expect(transport.bulkRequests.map((r) => r.map((a) => a.id))).toEqual([
      ["id0", "id1"],
      ["id2", "id3"],
      ["id4"],
    ]);
    expect(outcomes.map((o) => [o.op.ref, o.status, o.attempts])).toEqual([
      ["msg-0", "ok", 1],
      ["msg-1", "ok", 1],
      ["msg-2", "ok", 1],
      ["msg-3", "ok", 1],
      ["msg-4", "ok", 1],
    ]);
    expect(stats).toMatchObject({ operations: 5, indexed: 5, requests: 3, retried: 0 });
    expect(stats.bytes).toBe(
      transport.requests.reduce((sum, r) => sum + Buffer.byteLength(r.ndjson ?? ""), 0),
    );
  });

  it("cuts requests by bytes; a document over the cap goes alone", async () => {
    const ops = [...indexOps(3, 400), ...indexOps(1, 3000), ...indexOps(2, 10)];
    const { sink, transport } = setup(ok, { chunkBytes: 1100 });
    const { outcomes } = await sink.write(ops);
    expect(transport.bulkRequests.map((r) => r.length)).toEqual([2, 1, 1, 2]);
    for (const r of transport.requests.slice(0, 2))
      expect(Buffer.byteLength(r.ndjson ?? "")).toBeLessThanOrEqual(1100);
    expect(outcomes.every((o) => o.status === "ok")).toBe(true);
  });

  it("sends the exact version digits", async () => {
    const { sink, transport } = setup(ok);
    await sink.write([{ kind: "delete", index: "i", id: "a", version: 2n ** 63n - 1n }]);
    expect(transport.bulkRequests[0]?.[0]?.versionText).toBe("9223372036854775807");
  });

  it("sends nothing for an empty batch", async () => {
    const { sink, transport } = setup(ok);
    const { outcomes, stats } = await sink.write([]);
    expect(outcomes).toEqual([]);
    expect(stats.requests).toBe(0);
    expect(transport.requests).toHaveLength(0);
  });
});

describe("write: item outcomes", () => {
  it("maps conflicts to stale, missing deletes to ok, mapping errors to rejected", async () => {
    const { sink } = setup((_req, bulk) =>
      bulkResponse(bulk, (a) => {
        if (a.id === "old")
          return itemError(a, 409, "version_conflict_engine_exception", "[old]: version conflict");
        if (a.id === "gone") return { delete: { _id: "gone", status: 404, result: "not_found" } };
        if (a.id === "bad") return itemError(a, 400, "mapper_parsing_exception", "failed to parse field [n]");
        return itemOk(a);
      }),
    );
    const { outcomes, stats } = await sink.write([
      { kind: "index", index: "i", id: "old", version: 1n, source: {} },
      { kind: "delete", index: "i", id: "gone", version: 1n },
      { kind: "index", index: "i", id: "bad", version: 1n, source: { n: "abc" } },
      { kind: "index", index: "i", id: "fine", version: 1n, source: {} },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["stale", "ok", "rejected", "ok"]);
    expect(outcomes[2]).toMatchObject({
      httpStatus: 400,
      errorType: "mapper_parsing_exception",
      reason: "failed to parse field [n]",
    });
    expect(stats).toMatchObject({ indexed: 1, deleted: 1, stale: 1, rejected: 1, retryable: 0, requests: 1 });
  });

  it("refuses invalid operations locally and still sends the others", async () => {
    const { sink, transport } = setup(ok);
    const { outcomes } = await sink.write([
      { kind: "index", index: "i", id: "x".repeat(600), version: 1n, source: {} },
      { kind: "index", index: "i", id: "good", version: 1n, source: {} },
    ]);
    expect(outcomes[0]).toMatchObject({ status: "rejected", errorType: "invalid_operation", attempts: 0 });
    expect(outcomes[1]?.status).toBe("ok");
    expect(transport.bulkRequests).toEqual([[expect.objectContaining({ id: "good" })]]);
  });
});

describe("write: retries", () => {
  it("retries a whole-request 429 after a jittered backoff", async () => {
    const { sink, runtime } = setup(
      (_r, bulk, call) =>
        call === 1 ? errorResponse(429, "es_rejected_execution_exception") : bulkResponse(bulk),
      { adaptive: false },
    );
    const { outcomes, stats } = await sink.write(indexOps(3));
    expect(outcomes.map((o) => [o.status, o.attempts])).toEqual([
      ["ok", 2],
      ["ok", 2],
      ["ok", 2],
    ]);
    expect(stats).toMatchObject({ requests: 2, retried: 3, indexed: 3 });
    expect(runtime.sleeps).toEqual([100]); // random 0.5 of the first window [0, 200)
  });

  it("holds back the rest of the round after a whole request failed", async () => {
    const { sink, transport } = setup(
      (_r, bulk, call) =>
        call === 1 ? errorResponse(503, "unavailable_shards_exception") : bulkResponse(bulk),
      { chunkSize: 2, adaptive: false },
    );
    const { outcomes, stats } = await sink.write(indexOps(6));
    expect(transport.bulkRequests.map((r) => r.map((a) => a.id))).toEqual([
      ["id0", "id1"],
      ["id0", "id1"],
      ["id2", "id3"],
      ["id4", "id5"],
    ]);
    expect(outcomes.map((o) => o.attempts)).toEqual([2, 2, 1, 1, 1, 1]);
    expect(stats).toMatchObject({ indexed: 6, requests: 4 });
  });

  it("resends only the items that failed with 429/5xx", async () => {
    const { sink, transport } = setup((_r, bulk, call) =>
      bulkResponse(bulk, (a) =>
        call === 1 && (a.id === "id1" || a.id === "id3")
          ? itemError(a, 429, "es_rejected_execution_exception")
          : itemOk(a),
      ),
    );
    const { outcomes, stats } = await sink.write(indexOps(4));
    expect(transport.bulkRequests.map((r) => r.map((a) => a.id))).toEqual([
      ["id0", "id1", "id2", "id3"],
      ["id1", "id3"],
    ]);
    expect(outcomes.map((o) => o.attempts)).toEqual([1, 2, 1, 2]);
    expect(stats).toMatchObject({ indexed: 4, retried: 2, requests: 2 });
  });

  it("retries timeouts and network failures, each request within the time left", async () => {
    const { sink, transport } = setup(
      (_r, bulk, call) =>
        call <= 2 ? new TransportFailure(call === 1 ? "timeout" : "network", "boom") : bulkResponse(bulk),
      { requestTimeoutMs: 5000, adaptive: false },
    );
    const { outcomes } = await sink.write(indexOps(1));
    expect(outcomes[0]).toMatchObject({ status: "ok", attempts: 3 });
    expect(transport.requests.map((r) => r.timeoutMs)).toEqual([5000, 5000, 5000]);
  });

  it("ends as retryable, not an exception, when the retries run out", async () => {
    const { sink, runtime } = setup(
      () => errorResponse(503, "unavailable_shards_exception", "primary shard is not active"),
      {
        maxRetries: 3,
        baseDelayMs: 100,
        maxDelayMs: 250,
      },
    );
    runtime.randomValue = 0.999;
    const { outcomes, stats } = await sink.write(indexOps(2));
    expect(outcomes.map((o) => o.status)).toEqual(["retryable", "retryable"]);
    expect(outcomes[0]).toMatchObject({
      httpStatus: 503,
      errorType: "unavailable_shards_exception",
      attempts: 4,
    });
    expect(outcomes[0]?.reason).toMatch(/primary shard is not active \(sent 4 times; no retries left\)/);
    // Windows 100, 200, then capped at 250; full jitter picks just under each.
    expect(runtime.sleeps).toEqual([99, 199, 249]);
    expect(stats).toMatchObject({ retryable: 2, requests: 4, retried: 6 });
  });

  it("stops at the deadline and leaves the rest retryable", async () => {
    const { sink, runtime, transport } = setup(() => errorResponse(429, "es_rejected_execution_exception"), {
      maxRetries: 50,
      baseDelayMs: 1000,
      maxDelayMs: 1000,
      writeDeadlineMs: 60_000,
    });
    const start = runtime.time;
    const { outcomes } = await sink.write(indexOps(1), { deadline: start + 2_600 });
    expect(outcomes[0]?.status).toBe("retryable");
    expect(outcomes[0]?.reason).toMatch(/deadline/);
    // 500 ms per backoff: sent at +0, +500, ..., +2500; one more wait would end past +2600.
    expect(transport.requests).toHaveLength(6);
    expect(runtime.time - start).toBeLessThanOrEqual(2_600);
  });

  it("sends nothing when the deadline has already passed", async () => {
    const { sink, runtime, transport } = setup(ok);
    const { outcomes } = await sink.write(indexOps(2), { deadline: runtime.time - 1 });
    expect(transport.requests).toHaveLength(0);
    expect(outcomes.map((o) => [o.status, o.errorType, o.attempts])).toEqual([
      ["retryable", "deadline", 0],
      ["retryable", "deadline", 0],
    ]);
  });

  it("treats a response with the wrong number of items as retryable", async () => {
    const { sink } = setup((_r, _bulk, call) =>
      call === 1 ? { status: 200, body: { items: [] } } : ok(_r, _bulk, call),
    );
    const { outcomes } = await sink.write(indexOps(2));
    expect(outcomes.map((o) => [o.status, o.attempts])).toEqual([
      ["ok", 2],
      ["ok", 2],
    ]);
  });
});

describe("write: requests refused as a whole", () => {
  it("splits on 413 and rejects the one document too large, naming it", async () => {
    const { sink } = setup((req, bulk) =>
      Buffer.byteLength(req.ndjson ?? "") > 2000 ? errorResponse(413, "") : bulkResponse(bulk),
    );
    const ops = [
      ...indexOps(3, 100),
      { ...indexOps(1, 5000)[0], id: "huge" } as SinkOperation,
      ...indexOps(2, 100),
    ];
    const { outcomes, stats } = await sink.write(ops);
    expect(outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok", "rejected", "ok", "ok"]);
    expect(outcomes[3]).toMatchObject({ httpStatus: 413, errorType: "request_entity_too_large" });
    expect(outcomes[3]?.reason).toMatch(
      /document "huge" for index "books" is \d+ bytes.*leave large columns out/,
    );
    expect(stats.rejected).toBe(1);
  });

  it("isolates the operation behind a whole-request 400", async () => {
    const { sink } = setup((_r, bulk) =>
      bulk.some((a) => a.id === "id5")
        ? errorResponse(400, "action_request_validation_exception", "Validation Failed: 1: bad")
        : bulkResponse(bulk),
    );
    const { outcomes } = await sink.write(indexOps(8));
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => o.op.id)).toEqual(["id5"]);
    expect(outcomes[5]?.reason).toBe("action_request_validation_exception: Validation Failed: 1: bad");
    expect(outcomes.filter((o) => o.status === "ok")).toHaveLength(7);
  });

  it("throws a SinkError for 401 without leaking the credentials", async () => {
    const secret = "s3cr3t-api-key";
    const { sink } = setup(
      () => errorResponse(401, "security_exception", `unable to authenticate with ${secret}`),
      {},
      [secret],
    );
    const error = await sink.write(indexOps(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkError);
    expect(error).toMatchObject({ httpStatus: 401, retryable: false, errorType: "security_exception" });
    expect((error as SinkError).fix).toMatch(/API key/);
    expect(JSON.stringify({ message: (error as Error).message, ...(error as object) })).not.toContain(secret);
  });

  it("throws when every item targets a missing index, rejects when only some do", async () => {
    const missing: Handler = (_r, bulk) =>
      bulkResponse(bulk, (a) =>
        a.index === "nope"
          ? itemError(a, 404, "index_not_found_exception", `no such index [${a.index}]`)
          : itemOk(a),
      );
    const all = setup(missing).sink;
    await expect(all.write([{ kind: "delete", index: "nope", id: "1", version: 1n }])).rejects.toMatchObject({
      name: "SinkError",
      errorType: "index_not_found_exception",
      fix: expect.stringMatching(/bootstrap/),
    });
    const some = setup(missing).sink;
    const { outcomes } = await some.write([
      { kind: "delete", index: "nope", id: "1", version: 1n },
      { kind: "delete", index: "books", id: "1", version: 1n },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "ok"]);
  });

  it("throws when every item is refused for lack of privilege", async () => {
    const { sink } = setup((_r, bulk) =>
      bulkResponse(bulk, (a) =>
        itemError(a, 403, "security_exception", "action [indices:data/write/bulk[s]] is unauthorized"),
      ),
    );
    await expect(sink.write(indexOps(2))).rejects.toMatchObject({
      name: "SinkError",
      httpStatus: 403,
      errorType: "security_exception",
      message: expect.stringContaining('may not write to "books"'),
    });
  });

  it("redacts every form of a secret from reasons and errors", async () => {
    const user = "elastic";
    const password = "hunter2-long";
    const basic = Buffer.from(`${user}:${password}`).toString("base64");
    const { sink } = setup(
      (_r, bulk) =>
        bulkResponse(bulk, (a) =>
          itemError(a, 400, "illegal_argument_exception", `saw ${password} and Basic ${basic}`),
        ),
      {},
      [password, `${user}:${password}`],
    );
    const { outcomes } = await sink.write(indexOps(1));
    expect(outcomes[0]?.reason).toBe("saw [redacted] and Basic [redacted]");
  });

  it("throws for an answer that says the URL is wrong", async () => {
    const { sink } = setup(() => ({ status: 404, body: "Not Found" }));
    await expect(sink.write(indexOps(1))).rejects.toMatchObject({ name: "SinkError", httpStatus: 404 });
  });
});
