import { describe, expect, it } from "vitest";
import { encodeOperation } from "../../../../lib/sink/search/bulk-encoding";
import type { SinkOperation } from "../../../../lib/sink/types";
import { MAX_VERSION, SourceText } from "../../../../lib/sink/types";

function lines(op: SinkOperation): string[] {
  const encoded = encodeOperation(op);
  if ("invalid" in encoded) throw new Error(encoded.invalid);
  expect(encoded.text.endsWith("\n")).toBe(true);
  expect(encoded.bytes).toBe(Buffer.byteLength(encoded.text));
  return encoded.text.slice(0, -1).split("\n");
}

describe("encodeOperation", () => {
  it("writes versions above 2^53 as exact integers", () => {
    const version = 2n ** 53n + 1n; // 9007199254740993: a double would round it to ...992
    const [action] = lines({ kind: "index", index: "books", id: "1", version, source: { a: 1 } });
    expect(action).toContain('"version":9007199254740993,');
    expect(action).toContain('"version_type":"external_gte"');
  });

  it("accepts 0 and 2^63-1 and refuses what the engine would fail the whole request for", () => {
    expect(lines({ kind: "delete", index: "i", id: "a", version: 0n })[0]).toContain('"version":0,');
    expect(lines({ kind: "delete", index: "i", id: "a", version: MAX_VERSION })[0]).toContain(
      '"version":9223372036854775807,',
    );
    const refused = (op: SinkOperation) => {
      const encoded = encodeOperation(op);
      return "invalid" in encoded ? encoded.invalid : undefined;
    };
    expect(refused({ kind: "delete", index: "i", id: "a", version: MAX_VERSION + 1n })).toMatch(
      /outside 0 \.\. 2\^63-1/,
    );
    expect(refused({ kind: "delete", index: "i", id: "a", version: -1n })).toMatch(/outside/);
    expect(refused({ kind: "delete", index: "i", id: "a", version: 5 as unknown as bigint })).toMatch(
      /bigint/,
    );
    expect(refused({ kind: "delete", index: "i", id: "é".repeat(257), version: 1n })).toMatch(/514 bytes/);
    expect(refused({ kind: "delete", index: "i", id: "", version: 1n })).toMatch(/empty/);
    expect(refused({ kind: "index", index: "i", id: "a", version: 1n, source: [] as never })).toMatch(
      /JSON object/,
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(refused({ kind: "index", index: "i", id: "a", version: 1n, source: circular })).toMatch(
      /circular/i,
    );
  });

  it("writes a delete as one line and an index as two, with routing, pipeline and require_alias", () => {
    expect(lines({ kind: "delete", index: "i", id: "a|b", version: 7n, routing: "r" })).toEqual([
      '{"delete":{"_index":"i","_id":"a|b","version":7,"version_type":"external_gte","routing":"r"}}',
    ]);
    expect(
      lines({
        kind: "index",
        index: "i",
        id: 'say "hi"',
        version: 7n,
        routing: "r",
        pipeline: "p",
        requireAlias: true,
        source: { title: "x\ny" },
      }),
    ).toEqual([
      '{"index":{"_index":"i","_id":"say \\"hi\\"","version":7,"version_type":"external_gte","routing":"r","pipeline":"p","require_alias":true}}',
      '{"title":"x\\ny"}',
    ]);
  });

  it("sends a source given as text as it is; SourceText takes only one object on one line", () => {
    const text = '{"id" : 9007199254740993, "price" : 10.50, "tags" : ["a", "b"]}';
    const source = SourceText.of(text);
    if (!source) throw new Error("refused a valid source");
    expect(lines({ kind: "index", index: "i", id: "a", version: 1n, source })[1]).toBe(text);
    expect(SourceText.of(' {"a" : "x"}')?.json).toBe(' {"a" : "x"}');
    // A lone \r ends a line for NDJSON readers such as Node's readline, though not for `_bulk`.
    for (const bad of ['{"a" : 1,\n "b" : 2}', '{"a" : "x"}\r', '["a"]', "", "null"])
      expect(SourceText.of(bad)).toBeUndefined();
  });
});
