import { describe, expect, it } from "vitest";
import { buildIndexBody } from "../../../lib/document";
import { parseSchema } from "../../../lib/schema";

const body = (definition: Record<string, unknown>) => {
  const [spec] = parseSchema([{ database: "db", index: "books", ...definition }]);
  if (!spec) throw new Error("no index");
  return buildIndexBody(spec);
};

describe("buildIndexBody", () => {
  it("is empty without settings or mappings", () => {
    expect(body({ nodes: { table: "book" } })).toEqual({});
  });

  it("sends setting as settings.index, as PGSync does", () => {
    expect(body({ nodes: { table: "book" }, setting: { number_of_shards: 2 } })).toEqual({
      settings: { index: { number_of_shards: 2 } },
    });
  });

  it("builds mappings from node transforms under renamed names, nesting children by label", () => {
    expect(
      body({
        nodes: {
          table: "book",
          transform: {
            rename: { id: "book_id", publisher: "pub" },
            mapping: { id: { type: "long" }, title: { type: "text" } },
          },
          children: [
            {
              table: "publisher",
              relationship: { type: "one_to_one", variant: "object" },
              transform: {
                rename: { name: "publisher_name" },
                mapping: { publisher_name: { type: "keyword" } },
              },
            },
            { table: "review", relationship: { type: "one_to_many", variant: "object" } },
          ],
        },
      }),
    ).toEqual({
      mappings: {
        properties: {
          book_id: { type: "long" },
          title: { type: "text" },
          pub: { properties: { publisher_name: { type: "keyword" } } },
        },
      },
    });
  });

  it("merges the top-level mapping over node mappings, field by field", () => {
    expect(
      body({
        mapping: { authors: { type: "nested" }, title: { type: "keyword" } },
        nodes: {
          table: "book",
          transform: { mapping: { title: { type: "text", analyzer: "english" } } },
          children: [
            {
              table: "author",
              label: "authors",
              relationship: { type: "one_to_many", variant: "object" },
              transform: { mapping: { name: { type: "keyword" } } },
            },
          ],
        },
      }).mappings,
    ).toEqual({
      properties: {
        title: { type: "keyword", analyzer: "english" },
        authors: { type: "nested", properties: { name: { type: "keyword" } } },
      },
    });
  });

  it("takes a mapping with dynamic_templates as a whole mappings object, then mappings on top", () => {
    expect(
      body({
        nodes: { table: "book" },
        mapping: {
          dynamic_templates: [{ strings: { match_mapping_type: "string", mapping: { type: "keyword" } } }],
        },
        mappings: { dynamic: "strict", properties: { id: { type: "long" } } },
      }).mappings,
    ).toEqual({
      dynamic_templates: [{ strings: { match_mapping_type: "string", mapping: { type: "keyword" } } }],
      dynamic: "strict",
      properties: { id: { type: "long" } },
    });
  });

  it("requires routing when the schema routes documents", () => {
    expect(body({ nodes: { table: "book" }, routing: "publisher_id" }).mappings).toEqual({
      _routing: { required: true },
    });
  });
});
