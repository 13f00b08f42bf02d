import { describe, expect, it } from "vitest";
import { copyIndexBody } from "../../../lib/bootstrap";
import { parseSchema } from "../../../lib/schema";

function spec(extra: Record<string, unknown>) {
  const [index] = parseSchema([
    { database: "db", index: "book", nodes: { table: "book", columns: ["id", "title"] }, ...extra },
  ]);
  if (!index) throw new Error("no index");
  return index;
}

describe("copy index body", () => {
  it("adds the tombstone retention to the schema's settings and keeps its mappings", () => {
    const body = copyIndexBody(
      spec({ setting: { number_of_shards: 2 }, mapping: { title: { type: "keyword" } } }),
    );
    expect(body.settings).toEqual({ index: { number_of_shards: 2, gc_deletes: "1h" } });
    expect(body.mappings).toEqual({ properties: { title: { type: "keyword" } } });
  });

  it("keeps a gc_deletes the schema sets itself", () => {
    expect(copyIndexBody(spec({ setting: { gc_deletes: "6h" } })).settings).toEqual({
      index: { gc_deletes: "6h" },
    });
  });

  it("a schema without settings or mappings still gets the retention", () => {
    expect(copyIndexBody(spec({}))).toEqual({ settings: { index: { gc_deletes: "1h" } } });
  });
});
