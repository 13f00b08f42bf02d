// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} references are what these tests are about
import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "../../../lib/errors";
import {
  formatProblems,
  hideInterpolatedValues,
  indexNameProblem,
  parseColumnEntry,
  quoteIdent,
  quoteLiteral,
  SchemaError,
  substituteEnv,
} from "../../../lib/schema";

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

  it("with uniquePrefix, also suggests the one candidate a word begins (command-line words)", () => {
    expect(closest("valdiate", ["validate", "render", "run"], { uniquePrefix: true })).toBe("validate");
    expect(closest("rendr", ["validate", "render", "run"], { uniquePrefix: true })).toBe("render");
    expect(closest("stat", ["status", "start-up"], { uniquePrefix: true })).toBe("status");
    expect(closest("stat", ["status", "start-up"])).toBeUndefined();
    expect(closest("st", ["status", "start-up"], { uniquePrefix: true })).toBeUndefined();
    expect(closest("xyz", ["validate", "render"], { uniquePrefix: true })).toBeUndefined();
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
      { A: "a", K: "k", SCHEMA_ENV_ALLOW: "A,B,K" },
    );
    expect(value).toEqual({ "${K}": ["a-b", 1, { x: "${A}" }] });
    expect(problems).toEqual([]);
  });

  it("treats an empty variable as unset for the default but not as missing", () => {
    const env = { A: "", SCHEMA_ENV_ALLOW: "A" };
    expect(substituteEnv("${A:-d}", env).value).toBe("d");
    expect(substituteEnv("[${A}]", env)).toEqual({ value: "[]", problems: [], interpolations: [] });
  });

  it("cannot change the structure of the schema", () => {
    const { value } = substituteEnv(
      { table: "${SLOTSYNC_SCHEMA_T}" },
      { SLOTSYNC_SCHEMA_T: '", "schema": "evil' },
    );
    expect(value).toEqual({ table: '", "schema": "evil' });
  });
});

describe("environment substitution: which variables a schema may read", () => {
  const secrets = {
    PG_URL: "postgresql://u:pg-secret-1@db/x",
    UPSTASH_REDIS_REST_TOKEN: "upstash-secret-2",
    AWS_SECRET_ACCESS_KEY: "aws-secret-3",
    ES_API_KEY: "es-secret-4",
    MY_SECRET_THING: "secret-5",
    FROM_THE_SECRET: "secret-6",
    SLOTSYNC_SECRET_KEYS: "FROM_THE_SECRET",
  };

  it("reads DATABASE, SLOTSYNC_SCHEMA_* and the names SCHEMA_ENV_ALLOW lists (exactly or by PREFIX_*)", () => {
    const env = { DATABASE: "d", SLOTSYNC_SCHEMA_X: "x", TENANT: "t", APP_ENV: "e", OTHER: "o" };
    const allowed = { ...env, SCHEMA_ENV_ALLOW: " TENANT , APP_* " };
    expect(substituteEnv("${DATABASE}${SLOTSYNC_SCHEMA_X}${TENANT}${APP_ENV}", allowed).value).toBe("dxte");
    const refused = substituteEnv("${OTHER}", allowed);
    expect(refused.value).toBe("");
    expect(refused.problems).toEqual([
      {
        path: "",
        message:
          "the schema may not read environment variable OTHER: name it SLOTSYNC_SCHEMA_OTHER, or add OTHER to SCHEMA_ENV_ALLOW (comma-separated names)",
      },
    ]);
  });

  it.each(Object.keys(secrets).filter((k) => k !== "SLOTSYNC_SECRET_KEYS"))(
    "never reads the secret-bearing %s, even when allowed, and never shows its value",
    (name) => {
      const env = { ...secrets, SCHEMA_ENV_ALLOW: Object.keys(secrets).join(",") };
      const { value, problems } = substituteEnv({ index: `\${${name}}`, label: `\${${name}:-x}` }, env);
      expect(value).toEqual({ index: "", label: "" });
      expect(problems.map((p) => p.path)).toEqual(["index", "label"]);
      expect(problems[0]?.message).toMatch(new RegExp(`^${name} holds a secret or a credential`));
      const text = JSON.stringify(problems);
      for (const secret of Object.values(secrets).filter((v) => v.includes("secret"))) {
        expect(text).not.toContain(secret);
      }
    },
  );

  it("hides interpolated values from problem messages, long ones anywhere and short ones in quotes", () => {
    const env = { SLOTSYNC_SCHEMA_IDX: "Tenant-Books", SLOTSYNC_SCHEMA_S: "ab" };
    const { interpolations } = substituteEnv(
      { index: "${SLOTSYNC_SCHEMA_IDX}", x: "${SLOTSYNC_SCHEMA_S}" },
      env,
    );
    expect(
      hideInterpolatedValues(
        'index name "Tenant-Books" must be lowercase; use "tenant-books"',
        interpolations,
      ),
    ).toBe('index name "${SLOTSYNC_SCHEMA_IDX}" must be lowercase; use "${SLOTSYNC_SCHEMA_IDX}"');
    expect(hideInterpolatedValues('about "ab" and cabin', interpolations)).toBe(
      'about "${SLOTSYNC_SCHEMA_S}" and cabin',
    );
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
