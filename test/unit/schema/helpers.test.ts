// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} references are what these tests are about
import { describe, expect, it } from "vitest";
import {
  formatProblems,
  indexNameProblem,
  parseColumnEntry,
  quoteIdent,
  quoteLiteral,
  SchemaError,
  substituteEnv,
} from "../../../lib/schema";
import { closest, didYouMean, editDistance } from "../../../lib/schema/suggest";

describe("suggestions", () => {
  it("measures edit distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("suggests the closest plausible candidate only", () => {
    expect(closest("colums", ["columns", "children", "label"])).toBe("columns");
    expect(closest("Table", ["table", "schema"])).toBe("table");
    expect(closest("zzzzzz", ["columns", "children"])).toBeUndefined();
    expect(didYouMean("lable", ["label"])).toBe('; did you mean "label"?');
    expect(didYouMean("x", ["label"])).toBe("");
  });
});

describe("column entries", () => {
  it("parses plain columns and JSON paths", () => {
    expect(parseColumnEntry("title")).toEqual({
      ok: true,
      column: { source: "title", column: "title", path: [], name: "title" },
    });
    expect(parseColumnEntry("doc->x->1->z")).toEqual({
      ok: true,
      column: {
        source: "doc->x->1->z",
        column: "doc",
        path: [
          { op: "->", key: "x" },
          { op: "->", index: 1 },
          { op: "->", key: "z" },
        ],
        name: "doc_x_1_z",
      },
    });
    expect(parseColumnEntry("doc#>>{a,b}")).toMatchObject({ ok: true, column: { name: "doc_a,b" } });
    expect(parseColumnEntry("doc->-1")).toMatchObject({
      ok: true,
      column: { path: [{ op: "->", key: "-1" }] },
    });
  });
});

describe("index names", () => {
  it("accepts valid names and explains invalid ones", () => {
    expect(indexNameProblem("books-2024.v1")).toBeUndefined();
    expect(indexNameProblem("")).toBe("the index name must not be empty");
    expect(indexNameProblem("a*b")).toContain('contains "*"');
    expect(indexNameProblem("a:b")).toContain('contains ":"');
    expect(indexNameProblem("..")).toBe('index name ".." is reserved');
    expect(indexNameProblem("-x")).toContain("must not start with");
    expect(indexNameProblem("x".repeat(256))).toContain("longer than 255 bytes");
  });
});

describe("environment substitution", () => {
  it("substitutes in nested string values, not in keys", () => {
    const { value, problems } = substituteEnv(
      { "${K}": ["${A}-${B:-b}", 1, { x: "$${A}" }] },
      { A: "a", K: "k" },
    );
    expect(value).toEqual({ "${K}": ["a-b", 1, { x: "${A}" }] });
    expect(problems).toEqual([]);
  });

  it("treats an empty variable as unset for the default but not as missing", () => {
    expect(substituteEnv("${A:-d}", { A: "" }).value).toBe("d");
    expect(substituteEnv("[${A}]", { A: "" })).toEqual({ value: "[]", problems: [] });
  });

  it("cannot change the structure of the schema", () => {
    const { value } = substituteEnv({ table: "${T}" }, { T: '", "schema": "evil' });
    expect(value).toEqual({ table: '", "schema": "evil' });
  });
});

describe("SQL quoting", () => {
  it("quotes identifiers and constants so they cannot escape", () => {
    expect(quoteIdent('x"; DROP TABLE y; --')).toBe('"x""; DROP TABLE y; --"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("a\\'b")).toBe("E'a\\\\''b'");
    expect(() => quoteIdent("a\0b")).toThrow(/NUL/);
    expect(() => quoteLiteral("a\0b")).toThrow(/NUL/);
  });
});

describe("problem formatting", () => {
  it("prints one line per problem and a SchemaError that says how many", () => {
    const problems = [
      { path: "[0].index", message: "bad" },
      { path: "", message: "whole document" },
    ];
    expect(formatProblems(problems)).toBe("[0].index: bad\nwhole document");
    const error = new SchemaError(problems);
    expect(error.message).toBe("the schema has 2 problems:\n[0].index: bad\nwhole document");
    expect(error.fix).toContain("slotsync validate");
    expect(error.name).toBe("SchemaError");
  });
});
