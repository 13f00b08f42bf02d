import { describe, expect, it } from "vitest";
import { parseSchema, type TransformSpec, validateSchema } from "../../../lib/schema";

const withTransform = (transform: unknown, columns?: string[]) => [
  { database: "book", index: "book", nodes: { table: "book", columns, transform } },
];
const transformOf = (transform: unknown): TransformSpec => {
  const [spec] = parseSchema(withTransform(transform));
  if (!spec) throw new Error("no index");
  return spec.nodes.transform;
};
const problems = (transform: unknown) =>
  validateSchema(withTransform(transform)).problems.map((p) => `${p.path}: ${p.message}`);

describe("transform keys", () => {
  it("reads rename", () => {
    expect(transformOf({ rename: { id: "book_id", title: "book_title" } }).rename).toEqual({
      id: "book_id",
      title: "book_title",
    });
  });

  it("reads replace", () => {
    expect(transformOf({ replace: { code: { "-": "=", x: "" } } }).replace).toEqual({
      code: { "-": "=", x: "" },
    });
  });

  it("reads concat as one object or a list, with an empty default delimiter", () => {
    expect(transformOf({ concat: { columns: ["a", "b"], destination: "ab" } }).concat).toEqual([
      { columns: ["a", "b"], destination: "ab", delimiter: "" },
    ]);
    expect(
      transformOf({
        concat: [
          { columns: ["a"], destination: "x", delimiter: "-" },
          { columns: ["b"], destination: "y", delimiter: "_" },
        ],
      }).concat.map((c) => c.destination),
    ).toEqual(["x", "y"]);
  });

  it("reads mapping", () => {
    expect(
      transformOf({ mapping: { id: { type: "long" }, meta: { properties: { a: { type: "keyword" } } } } })
        .mapping,
    ).toEqual({
      id: { type: "long" },
      meta: { properties: { a: { type: "keyword" } } },
    });
  });

  it("reads move with absolute ($root) and relative destinations", () => {
    expect(
      transformOf({
        move: [
          { column: "id", destination: "$root.author.author_id" },
          { column: "name", destination: "details.name" },
        ],
      }).move,
    ).toEqual([
      {
        column: "id",
        destination: "$root.author.author_id",
        destinationPath: ["author", "author_id"],
        absolute: true,
      },
      { column: "name", destination: "details.name", destinationPath: ["details", "name"], absolute: false },
    ]);
  });
});

describe("transform problems", () => {
  it("reports unknown transform keys with a suggestion", () => {
    expect(problems({ renmae: {} })).toEqual([
      '[0].nodes.transform.renmae: unknown transform key "renmae"; did you mean "rename"? (allowed: rename, replace, concat, mapping, move)',
    ]);
  });

  it("reports bad rename values and two fields renamed to one name", () => {
    expect(problems({ rename: { id: 1, a: "x", b: "x" } })).toEqual([
      '[0].nodes.transform.rename.id: expected the new name for "id" (a string), got the number 1',
      '[0].nodes.transform.rename.b: "b" and "a" are both renamed to "x"',
    ]);
  });

  it("reports bad replace entries", () => {
    expect(problems({ replace: { code: { "": "x", a: 1 }, name: "x" } })).toEqual([
      '[0].nodes.transform.replace.code[""]: the text to search for must not be empty',
      '[0].nodes.transform.replace.code.a: expected the replacement for "a" (a string), got the number 1',
      '[0].nodes.transform.replace.name: expected the replacements for "name" (a JSON object), got the string "x"',
    ]);
  });

  it("reports incomplete concat entries", () => {
    expect(problems({ concat: [{ columns: [], destination: "x" }, { delimiter: 1 }, "a"] })).toEqual([
      "[0].nodes.transform.concat[0].columns: list at least one field",
      '[0].nodes.transform.concat[1]: concat needs "columns" (the fields to join)',
      '[0].nodes.transform.concat[1]: concat needs "destination" (the field to write)',
      "[0].nodes.transform.concat[1].delimiter: expected a string, got the number 1",
      '[0].nodes.transform.concat[2]: expected a concat object (or a list of them), got the string "a"',
    ]);
  });

  it("reports mappings without a type", () => {
    expect(problems({ mapping: { id: {}, name: { type: 3 }, x: "keyword" } })).toEqual([
      '[0].nodes.transform.mapping.id: the mapping of "id" needs a "type" (e.g. "keyword", "long", "date")',
      "[0].nodes.transform.mapping.name.type: expected an Elasticsearch type name, got the number 3",
      '[0].nodes.transform.mapping.x: expected the Elasticsearch mapping of "x" (a JSON object), got the string "keyword"',
    ]);
  });

  it("reports bad move entries", () => {
    expect(
      problems({
        move: [
          { column: "id" },
          { column: "id", destination: "$root." },
          { column: "a", destination: "b", to: "c" },
        ],
      }),
    ).toEqual([
      '[0].nodes.transform.move[0]: move needs "destination", e.g. "$root.author.author_id" or "details.id"',
      '[0].nodes.transform.move[1].destination: "$root." is not a field path; write field names separated by dots, e.g. "$root.author.id"',
      '[0].nodes.transform.move[2].to: unknown move key "to" (allowed: column, destination)',
    ]);
  });

  it("reports a transform that is not an object", () => {
    expect(problems([])).toEqual(["[0].nodes.transform: expected transform (a JSON object), got an array"]);
  });
});
