// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} references are what these tests are about
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadSchema,
  MAX_JSON_DEPTH,
  parseJsonText,
  readSchemaText,
  SchemaError,
  SchemaLoadError,
} from "../../../lib/schema";

const SCHEMA = JSON.stringify([{ database: "${DB}", index: "books", nodes: { table: "book" } }]);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "slotsync-schema-"));
  await writeFile(join(dir, "schema.json"), SCHEMA);
  await writeFile(join(dir, "broken.json"), "[{");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fakeFetch(status: number, body: string): typeof fetch {
  return (async () => new Response(body, { status })) as unknown as typeof fetch;
}

describe("loadSchema", () => {
  it("loads a file path and a file:// URL, substituting from the env map", async () => {
    const [spec] = await loadSchema(join(dir, "schema.json"), {
      env: { DB: "library", SCHEMA_ENV_ALLOW: "DB" },
    });
    expect(spec?.database).toBe("library");
    const [again] = await loadSchema(pathToFileURL(join(dir, "schema.json")).href, {
      env: { DB: "x", SCHEMA_ENV_ALLOW: "DB" },
    });
    expect(again?.database).toBe("x");
  });

  it("explains a missing file", async () => {
    const error = await loadSchema(join(dir, "nope.json")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaLoadError);
    expect((error as SchemaLoadError).message).toBe(`schema file ${join(dir, "nope.json")} does not exist`);
  });

  it("reports invalid JSON as a schema problem", async () => {
    const error = await loadSchema(join(dir, "broken.json")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).problems[0]?.message).toMatch(/broken\.json is not valid JSON/);
  });

  it("fetches https URLs with the injected fetch", async () => {
    const [spec] = await loadSchema("https://example.com/schema.json", {
      fetch: fakeFetch(200, SCHEMA),
      env: { DB: "web", SCHEMA_ENV_ALLOW: "DB" },
    });
    expect(spec?.database).toBe("web");
  });

  it("marks server errors retryable and client errors not", async () => {
    const server = await readSchemaText("https://example.com/s.json", { fetch: fakeFetch(503, "") }).catch(
      (e: unknown) => e,
    );
    expect(server).toBeInstanceOf(SchemaLoadError);
    expect((server as SchemaLoadError).retryable).toBe(true);
    const missing = await readSchemaText("https://example.com/s.json", { fetch: fakeFetch(404, "") }).catch(
      (e: unknown) => e,
    );
    expect((missing as SchemaLoadError).retryable).toBe(false);
    expect((missing as SchemaLoadError).message).toBe(
      "fetching the schema from https://example.com/s.json returned HTTP 404",
    );
  });

  it("marks network failures retryable", async () => {
    const failing = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    const error = await readSchemaText("https://example.com/s.json", { fetch: failing }).catch(
      (e: unknown) => e,
    );
    expect((error as SchemaLoadError).retryable).toBe(true);
  });

  it("refuses plain http except on loopback", async () => {
    const error = await readSchemaText("http://example.com/s.json", { fetch: fakeFetch(200, SCHEMA) }).catch(
      (e: unknown) => e,
    );
    expect((error as SchemaLoadError).fix).toBe("serve the schema over https://");
    await expect(readSchemaText("http://127.0.0.1:9/s.json", { fetch: fakeFetch(200, "ok") })).resolves.toBe(
      "ok",
    );
  });

  it("reads s3://bucket/key with the injected fetcher", async () => {
    const calls: string[] = [];
    const [spec] = await loadSchema("s3://configs/slotsync/schema.json", {
      s3: async (bucket, key) => {
        calls.push(`${bucket}|${key}`);
        return SCHEMA;
      },
      env: { DB: "s3db", SCHEMA_ENV_ALLOW: "DB" },
    });
    expect(calls).toEqual(["configs|slotsync/schema.json"]);
    expect(spec?.database).toBe("s3db");
  });

  it("wraps S3 failures and rejects malformed S3 URLs", async () => {
    const failing = async () => {
      throw new Error("AccessDenied");
    };
    const error = await readSchemaText("s3://b/k", { s3: failing }).catch((e: unknown) => e);
    expect((error as SchemaLoadError).message).toBe("cannot read the schema from s3://b/k: AccessDenied");
    const malformed = await readSchemaText("s3://bucket-only", { s3: failing }).catch((e: unknown) => e);
    expect((malformed as SchemaLoadError).message).toBe('"s3://bucket-only" is not an S3 URL');
  });
});

describe("parseJsonText: bad schema text", () => {
  it("skips a UTF-8 byte order mark", () => {
    expect(parseJsonText('\uFEFF[{"database": "d"}]', "s.json")).toEqual({ json: [{ database: "d" }] });
  });

  it("reports a syntax error by line and column, quoting nothing of the file", () => {
    const text = "PG_URL=postgres://app:hunter2-secret@db/prod\nTOKEN=abc";
    const { problem } = parseJsonText(text, ".env");
    expect(problem).toEqual({
      path: "",
      message:
        ".env is not valid JSON at line 1, column 1; check that the file is the schema.json (a JSON array of index definitions) and fix the JSON there",
    });
    expect(parseJsonText('[\n  {"a": 1,,}\n]', "s.json").problem?.message).toMatch(
      /^s\.json is not valid JSON at line 2, column 11;/,
    );
    expect(parseJsonText('[{"a": "hunter2-secret" x}]', "s.json").problem?.message).toMatch(
      /line 1, column 25;/,
    );
    expect(parseJsonText('[{"a": 1}', "s.json").problem?.message).toMatch(
      /ends before the JSON is complete \(line 1, column 10\); check for a missing \] or \}$/,
    );
    expect(parseJsonText(" \n", "s.json").problem?.message).toBe(
      "s.json is empty; a schema is a JSON array of index definitions",
    );
  });

  it("refuses nesting deeper than the limit at the JSON path where it starts, without recursion", () => {
    const deep = `${"[".repeat(3000)}${"]".repeat(3000)}`;
    const { problem } = parseJsonText(deep, "s.json");
    expect(problem?.path).toBe("[0]".repeat(MAX_JSON_DEPTH));
    expect(problem?.message).toMatch(
      new RegExp(`^the schema nests deeper than ${MAX_JSON_DEPTH} levels here`),
    );
    expect(parseJsonText(`${"[".repeat(50)}${"]".repeat(50)}`, "s.json").problem).toBeUndefined();
  });
});

describe("readSchemaText: a file that cannot be read", () => {
  it("says a directory is a directory, and how to name the file in it", async () => {
    const error = (await readSchemaText(dir).catch((e: unknown) => e)) as SchemaLoadError;
    expect(error).toBeInstanceOf(SchemaLoadError);
    expect(error.message).toBe(`schema file ${dir} is a directory`);
    expect(error.fix).toBe("pass the schema.json file inside it: --schema <dir>/schema.json (or SCHEMA)");
  });
});
