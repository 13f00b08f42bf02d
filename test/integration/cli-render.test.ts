import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentBuilder, type DocumentResult, parseJson, stringifyJson } from "../../lib/document";
import { parseSchema, resolveSchema } from "../../lib/schema";
import { lines, runCli } from "../support/cli";
import { createFixtureDatabase, readSchemaFixture, schemaFixtureDir, type TestDatabase } from "../support/pg";

let books: TestDatabase;
let shops: TestDatabase;
const bookstore = join(schemaFixtureDir("bookstore"), "schema.json");
const composite = join(schemaFixtureDir("composite"), "schema.json");

/** What DocumentBuilder builds for every root row, as the NDJSON lines render must print. */
async function expectedLines(db: TestDatabase, fixture: string, index: string): Promise<string[]> {
  const spec = parseSchema(await readSchemaFixture(fixture), { env: { DATABASE: db.name } });
  const resolved = await resolveSchema(spec, db.client);
  const target = resolved.indices.find((i) => i.spec.index === index);
  if (!target) throw new Error(`no index ${index}`);
  const builder = await createDocumentBuilder(target);
  const docs: DocumentResult[] = [];
  let after: string[] | undefined;
  for (;;) {
    const page = await builder.buildRange(db.client, { ...(after ? { after } : {}), limit: 2 });
    docs.push(...page.documents);
    if (!page.more || !page.lastKey) break;
    after = page.lastKey;
  }
  return docs.flatMap((d) =>
    d.action === "index" ? [stringifyJson({ _index: d._index, _id: d._id, _source: d._source })] : [],
  );
}

beforeAll(async () => {
  books = await createFixtureDatabase("bookstore");
  shops = await createFixtureDatabase("composite");
});
afterAll(async () => {
  await books?.drop();
  await shops?.drop();
});

describe("slotsync render", () => {
  it("prints every document of the bookstore, exactly as DocumentBuilder builds them, in key order", async () => {
    const r = await runCli(["render", "--schema", bookstore], {
      env: { PG_URL: books.url, DATABASE: books.name },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    const expected = await expectedLines(books, "bookstore", "bookstore");
    expect(expected.length).toBeGreaterThan(2);
    expect(out).toEqual(expected);
    const first = parseJson(out[0] ?? "") as {
      _index: string;
      _id: string;
      _source: Record<string, unknown>;
    };
    expect(Object.keys(first)).toEqual(["_index", "_id", "_source"]);
    expect(first._id).toBe("1");
    expect(first._source.book_title).toBe("Charlie and the chocolate factory");
  });

  it("--ids prints those documents in the order given and notes missing ids on stderr", async () => {
    const r = await runCli(["render", "--schema", bookstore, "--ids", "3,999,1"], {
      env: { PG_URL: books.url, DATABASE: books.name },
    });
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => (JSON.parse(l) as { _id: string })._id)).toEqual(["3", "1"]);
    expect(r.stderr).toBe("slotsync: bookstore/999: no root row with this key; skipped\n");
  });

  it("composite keys are written a|b; --index picks one index of several", async () => {
    const env = { PG_URL: shops.url, DATABASE: shops.name };
    const all = await runCli(["render", "--schema", composite, "--index", "regions"], { env });
    expect(all.code).toBe(0);
    expect(lines(all.stdout)).toEqual(await expectedLines(shops, "composite", "regions"));
    const some = await runCli(["render", "--schema", composite, "--index", "regions", "--ids", "GB|WLS"], {
      env,
    });
    expect(some.code).toBe(0);
    const docs = lines(some.stdout).map((l) => JSON.parse(l) as { _index: string; _id: string });
    expect(docs.map((d) => [d._index, d._id])).toEqual([["regions", "GB|WLS"]]);
  });

  it("usage problems with the schema's indices and ids are one line each, exit 2", async () => {
    const env = { PG_URL: shops.url, DATABASE: shops.name };
    const typo = await runCli(["render", "--schema", composite, "--index", "region"], { env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('slotsync: the schema has no index "region" (did you mean --index regions?)\n');
    const ambiguous = await runCli(["render", "--schema", composite, "--ids", "GB|WLS"], { env });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/^slotsync: --ids needs --index when the schema has several indices/);
    const short = await runCli(["render", "--schema", composite, "--index", "regions", "--ids", "GB"], {
      env,
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toBe(
      'slotsync: id "GB" has 1 value(s) but regions\'s key has 2 (write composite ids as country|code)\n',
    );
  });

  it("a schema that does not match the database: the problems, exit 2", async () => {
    const r = await runCli(["render", "--schema", bookstore], {
      env: { PG_URL: shops.url, DATABASE: shops.name },
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toContainEqual(
      expect.stringMatching(/^\[0\]\.nodes\.table: table or view public\.book does not exist/),
    );
  });
});
