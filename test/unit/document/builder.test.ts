import { describe, expect, it } from "vitest";
import { DocumentBuilder, DocumentError, type DocumentPlugin, PluginError } from "../../../lib/document";
import type { Queryable } from "../../../lib/schema";
import { resolveIndex } from "./resolved";

/** A client that answers every query with the given rows and records what it was sent. */
function fakeClient(
  rows: Array<Record<string, unknown>>,
  calls: Array<{ text: string; values?: unknown[] }> = [],
): Queryable {
  return {
    async query<R extends object>(text: string, values?: unknown[]) {
      calls.push({ text, values });
      return { rows: rows as R[] };
    },
  };
}

const index = (extra: Record<string, unknown> = {}) =>
  resolveIndex({
    nodes: {
      table: "customer",
      columns: ["id", "name", "doc"],
      transform: { replace: { name: { x: "y" } } },
    },
    ...extra,
  });

describe("DocumentBuilder.build", () => {
  it("sends each distinct key once and returns documents and deletions in order", async () => {
    const calls: Array<{ text: string; values?: unknown[] }> = [];
    const client = fakeClient(
      [
        { key: ["2"], doc: '{"id":2,"name":"xx","doc":{"n":9007199254740993}}' },
        { key: ["3"], doc: null },
      ],
      calls,
    );
    const results = await new DocumentBuilder(index()).build(client, [2, "2", 3]);
    expect(calls[0]?.values).toEqual([["2", "3"]]);
    expect(results).toEqual([
      {
        action: "index",
        _index: "test",
        _id: "2",
        key: ["2"],
        _source: { id: 2, name: "yy", doc: { n: 9007199254740993n } },
      },
      { action: "delete", _index: "test", _id: "3", key: ["3"], reason: "missing" },
    ]);
  });

  it("sends no query for no keys", async () => {
    const calls: Array<{ text: string }> = [];
    expect(await new DocumentBuilder(index()).build(fakeClient([], calls), [])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it("adds routing (read before plugins) and pipeline", async () => {
    const builder = new DocumentBuilder(index({ routing: "name", pipeline: "enrich" }));
    const [doc] = await builder.build(
      fakeClient([{ key: ["1"], doc: '{"id":1,"name":"ann","doc":null}' }]),
      [1],
    );
    expect(doc).toMatchObject({ routing: "ann", pipeline: "enrich" });
  });

  it("runs plugins in the schema's order and turns a dropped document into a delete", async () => {
    const seen: string[] = [];
    const b: DocumentPlugin = {
      name: "B",
      transform: (doc) => {
        seen.push("B");
        return { ...doc, b: true };
      },
    };
    const a: DocumentPlugin = {
      name: "A",
      transform: async (doc, ctx) => {
        seen.push(`A:${ctx._id}:${ctx._index}`);
        return doc.id === 2 ? null : { ...doc, a: doc.b ?? null };
      },
    };
    // Supplied in the wrong order on purpose: the schema's order wins.
    const plugins = [a, b];
    const builder = new DocumentBuilder(index({ plugins: ["B", "A"] }), {
      plugins,
    });
    const results = await builder.build(
      fakeClient([
        { key: ["1"], doc: '{"id":1,"name":"a","doc":null}' },
        { key: ["2"], doc: '{"id":2,"name":"b","doc":null}' },
      ]),
      [1, 2],
    );
    expect(seen).toEqual(["B", "A:1:test", "B", "A:2:test"]);
    expect(results).toEqual([
      {
        action: "index",
        _index: "test",
        _id: "1",
        key: ["1"],
        _source: { id: 1, name: "a", doc: null, b: true, a: true },
      },
      { action: "delete", _index: "test", _id: "2", key: ["2"], reason: "dropped" },
    ]);
  });

  it("refuses to build without the plugins the schema names", () => {
    expect(() => new DocumentBuilder(index({ plugins: ["Missing"] }))).toThrow(PluginError);
  });

  it("wraps a plugin failure with the document it failed on", async () => {
    const broken: DocumentPlugin = {
      name: "Broken",
      transform: () => {
        throw new Error("boom");
      },
    };
    const builder = new DocumentBuilder(index({ plugins: ["Broken"] }), { plugins: [broken] });
    await expect(builder.build(fakeClient([{ key: ["1"], doc: "{}" }]), [1])).rejects.toThrow(
      'plugin "Broken" failed on document 1: boom',
    );
  });

  it("wraps query failures, marking connection errors retryable", async () => {
    const failing = (code: string): Queryable => ({
      query: async () => {
        throw Object.assign(new Error("nope"), { code });
      },
    });
    const builder = new DocumentBuilder(index());
    const lost = await builder.build(failing("08006"), [1]).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(DocumentError);
    expect((lost as DocumentError).retryable).toBe(true);
    const syntax = await builder.build(failing("22P02"), [1]).catch((e: unknown) => e);
    expect((syntax as DocumentError).retryable).toBe(false);
    expect((syntax as DocumentError).message).toBe("building documents of index test failed: nope");
  });
});

describe("DocumentBuilder.buildRange", () => {
  it("returns the page, the last key and whether more may follow", async () => {
    const builder = new DocumentBuilder(index());
    const rows = [
      { key: ["1"], doc: '{"id":1,"name":"a","doc":null}' },
      { key: ["2"], doc: '{"id":2,"name":"b","doc":null}' },
    ];
    const full = await builder.buildRange(fakeClient(rows), { limit: 2 });
    expect(full.lastKey).toEqual(["2"]);
    expect(full.more).toBe(true);
    expect(full.documents.map((d) => d._id)).toEqual(["1", "2"]);
    // The rows' document text, as sent: what a consumer fits its next page to.
    expect(full.textLength).toBe((rows[0]?.doc.length ?? 0) + (rows[1]?.doc.length ?? 0));
    const last = await builder.buildRange(fakeClient(rows), { after: ["0"], limit: 5 });
    expect(last.more).toBe(false);
    const empty = await builder.buildRange(fakeClient([]), { after: ["9"], limit: 5 });
    expect(empty).toEqual({ documents: [], lastKey: undefined, more: false, textLength: 0 });
  });
});

describe("DocumentBuilder.build with spellings of one key", () => {
  it("returns one result per canonical key", async () => {
    const rows = [
      { key: ["2"], doc: '{"id":2,"name":"a","doc":null}' },
      { key: ["2"], doc: '{"id":2,"name":"a","doc":null}' },
    ];
    const results = await new DocumentBuilder(index()).build(fakeClient(rows), ["2", "02"]);
    expect(results.map((r) => r._id)).toEqual(["2"]);
  });
});
