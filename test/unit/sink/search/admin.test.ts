import { describe, expect, it } from "vitest";
import { SinkError } from "../../../../lib/sink/errors";
import { SearchEngineSink } from "../../../../lib/sink/search/search-sink";
import {
  type EngineRequest,
  type EngineResponse,
  TransportFailure,
} from "../../../../lib/sink/search/transport";
import type { StoredDocument } from "../../../../lib/sink/types";
import { errorResponse, FakeRuntime, FakeTransport, tuning } from "./fakes";

function setup(handler: (request: EngineRequest, call: number) => EngineResponse | Error) {
  const transport = new FakeTransport((request, _bulk, call) => handler(request, call));
  const runtime = new FakeRuntime();
  return { transport, runtime, sink: new SearchEngineSink(transport, tuning({ maxRetries: 2 }), runtime) };
}

describe("index management", () => {
  it("creates an index, and reports one that exists without failing", async () => {
    const { sink, transport } = setup((_r, call) =>
      call === 1 ? { status: 200, body: {} } : errorResponse(400, "resource_already_exists_exception"),
    );
    expect(await sink.createIndex("books-1", { settings: { "index.gc_deletes": "1h" } })).toEqual({
      created: true,
    });
    expect(await sink.createIndex("books-1")).toEqual({ created: false });
    expect(transport.requests[0]).toMatchObject({ method: "PUT", path: "/books-1" });
  });

  it("refuses patterns, lists and _all instead of touching other indices", async () => {
    const { sink, transport } = setup(() => ({ status: 200, body: {} }));
    for (const name of ["books*", "a,b", "_all", ""]) {
      await expect(sink.deleteIndex(name)).rejects.toBeInstanceOf(SinkError);
    }
    expect(transport.requests).toHaveLength(0);
  });

  it("retries 503 and timeouts on admin calls, then gives a retryable SinkError", async () => {
    const flaky = setup((_r, call) =>
      call === 1
        ? errorResponse(503, "unavailable")
        : call === 2
          ? new TransportFailure("timeout", "t")
          : { status: 404, body: {} },
    );
    expect(await flaky.sink.deleteIndex("gone")).toEqual({ deleted: false });
    expect(flaky.runtime.sleeps).toHaveLength(2);

    const down = setup(() => new TransportFailure("network", "connect ECONNREFUSED"));
    await expect(down.sink.indexExists("x")).rejects.toMatchObject({ retryable: true, errorType: "network" });
    expect(down.transport.requests).toHaveLength(3);
  });

  it("explains a 403 with the engine's reason", async () => {
    const { sink } = setup(() =>
      errorResponse(403, "security_exception", "action [indices:admin/create] is unauthorized"),
    );
    await expect(sink.createIndex("x")).rejects.toMatchObject({
      httpStatus: 403,
      retryable: false,
      message: expect.stringContaining("indices:admin/create"),
      fix: expect.stringContaining("grant"),
    });
  });
});

describe("swapAlias", () => {
  it("moves the alias in one _aliases call", async () => {
    const { sink, transport } = setup((r) =>
      r.path === "/_alias/books"
        ? { status: 200, body: { "books-1": { aliases: { books: {} } } } }
        : { status: 200, body: {} },
    );
    expect(await sink.swapAlias("books", "books-2")).toEqual({ previous: ["books-1"] });
    const call = transport.requests.find((r) => r.path === "/_aliases");
    expect(call?.body).toEqual({
      actions: [
        { remove: { index: "books-1", alias: "books" } },
        { add: { index: "books-2", alias: "books" } },
      ],
    });
  });

  it("replaces a concrete index of the alias's name only when asked", async () => {
    const handler = (r: EngineRequest): EngineResponse =>
      r.path === "/_alias/books"
        ? { status: 404, body: { error: "alias [books] missing" } }
        : { status: 200, body: {} };
    const refused = setup(handler);
    await expect(refused.sink.swapAlias("books", "books-2")).rejects.toMatchObject({
      message: expect.stringContaining('"books" is an index, not an alias'),
    });
    const { sink, transport } = setup(handler);
    await sink.swapAlias("books", "books-2", { replaceIndex: true });
    expect(transport.requests.at(-1)?.body).toEqual({
      actions: [{ remove_index: { index: "books" } }, { add: { index: "books-2", alias: "books" } }],
    });
  });
});

describe("reads", () => {
  it("returns documents in order with exact versions", async () => {
    const raw =
      '{"docs":[{"_index":"books-1","_id":"b","_version":9007199254740993,"_routing":"r","found":true,"_source":{"t":1}},' +
      '{"_index":"books-1","_id":"a","found":false}]}';
    const { sink, transport } = setup(() => ({ status: 200, body: undefined, raw }));
    const docs = await sink.getDocuments("books", [{ id: "b", routing: "r" }, "a"]);
    expect(docs).toEqual([
      { index: "books-1", id: "b", version: 2n ** 53n + 1n, routing: "r", source: { t: 1 } },
      undefined,
    ]);
    expect(transport.requests[0]).toMatchObject({
      path: "/books/_mget",
      raw: true,
      body: {
        docs: [{ _id: "b", routing: "r" }, { _id: "a" }],
      },
    });
  });

  it("scans page by page and clears the scroll", async () => {
    const page = (ids: string[]) => ({
      status: 200,
      body: undefined,
      raw: JSON.stringify({
        _scroll_id: "S1",
        hits: { hits: ids.map((id) => ({ _index: "books-1", _id: id, _version: 1, _source: { id } })) },
      }),
    });
    const { sink, transport } = setup((r) => {
      if (r.method === "DELETE") return { status: 200, body: {} };
      if (r.path === "/books/_search") return page(["a", "b"]);
      return page(["c"]);
    });
    const seen: StoredDocument[] = [];
    for await (const doc of sink.scan("books", { batchSize: 2 })) seen.push(doc);
    expect(seen.map((d) => d.id)).toEqual(["a", "b", "c"]);
    expect(transport.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /books/_search",
      "POST /_search/scroll",
      "DELETE /_search/scroll",
    ]);
  });
});
