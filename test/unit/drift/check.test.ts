import { describe, expect, it } from "vitest";
import {
  compareFingerprint,
  driftSqlState,
  readCatalogState,
  SchemaDriftError,
  schemaHash,
  schemaUses,
  suggestsDrift,
  takeFingerprint,
} from "../../../lib/drift";
import { SlotsyncError } from "../../../lib/errors";
import { bookCatalog, bookSchema } from "./fakes";

describe("what a schema uses", () => {
  it("lists node columns, keys and join columns per table", () => {
    const uses = schemaUses(bookSchema());
    expect(uses).toEqual([
      {
        index: "book",
        table: { schema: "public", name: "book" },
        columns: ["id", "title", "price", "publisher_id"],
      },
      { index: "book", table: { schema: "public", name: "publisher" }, columns: ["id", "name"] },
    ]);
  });

  it("counts the columns of rule filters as used, in the document or not", () => {
    const schema = bookSchema();
    const publisher = schema.indices[0]?.nodes[1];
    if (!publisher) throw new Error("the fake schema has a publisher node");
    publisher.rules.filters.push({
      path: "r",
      column: "active",
      type: "boolean",
      baseType: "boolean",
      op: "eq",
      value: true,
    });
    publisher.rules.changeFilters.push({
      path: "r2",
      column: "country",
      type: "text",
      baseType: "text",
      op: "ne",
      value: "x",
      operations: ["delete"],
    });
    expect(schemaUses(schema)[1]?.columns).toEqual(["id", "name", "active", "country"]);
  });

  it("fingerprints types, oids and column numbers; an unused column stays out", async () => {
    const fp = await takeFingerprint(bookCatalog(), bookSchema(), "h1");
    expect(fp.schemaHash).toBe("h1");
    expect(fp.tables[0]).toMatchObject({ index: "book", name: "book", oid: "1001" });
    expect(fp.tables[0]?.columns).toContainEqual({ name: "price", type: "numeric", attnum: 3 });
    expect(fp.tables[0]?.columns.map((c) => c.name)).not.toContain("notes");
  });

  it("hashes the schema file's content", () => {
    expect(schemaHash([{ index: "a" }])).toBe(schemaHash([{ index: "a" }]));
    expect(schemaHash([{ index: "a" }])).not.toBe(schemaHash([{ index: "b" }]));
  });
});

describe("comparing a fingerprint with the catalog", () => {
  async function afterDdl(ddl: (catalog: ReturnType<typeof bookCatalog>) => void) {
    const catalog = bookCatalog();
    const fp = await takeFingerprint(catalog, bookSchema(), "h1");
    ddl(catalog);
    return compareFingerprint(fp, await readCatalogState(catalog, fp.tables));
  }

  it("finds nothing when nothing changed, or only an unused column did", async () => {
    expect(await afterDdl(() => undefined)).toEqual([]);
    expect(
      await afterDdl((c) => {
        c.table("book").columns = c.table("book").columns.filter((x) => x.name !== "notes");
      }),
    ).toEqual([]);
  });

  it("names a dropped column with its index and table, and the fix", async () => {
    const findings = await afterDdl((c) => {
      c.table("book").columns = c.table("book").columns.filter((x) => x.name !== "title");
    });
    expect(findings).toEqual([
      {
        index: "book",
        table: "public.book",
        column: "title",
        kind: "column-missing",
        fix: expect.stringMatching(/schema\.json.*slotsync bootstrap --reindex/),
      },
    ]);
  });

  it("names what a renamed column is called now", async () => {
    const findings = await afterDdl((c) => {
      const title = c.table("book").columns.find((x) => x.name === "title");
      if (title) title.name = "headline";
    });
    expect(findings).toMatchObject([
      { table: "public.book", column: "title", kind: "column-missing", now: "renamed to headline" },
    ]);
  });

  it("names a dropped table, and a renamed one by its oid", async () => {
    const dropped = await afterDdl((c) => {
      c.tables = c.tables.filter((t) => t.name !== "publisher");
    });
    expect(dropped).toMatchObject([{ table: "public.publisher", kind: "table-missing" }]);
    expect(dropped[0]?.now).toBeUndefined();
    const renamed = await afterDdl((c) => {
      c.table("publisher").name = "publishers";
    });
    expect(renamed).toMatchObject([
      { table: "public.publisher", kind: "table-missing", now: "renamed to public.publishers" },
    ]);
  });

  it("names a type change with both types", async () => {
    const findings = await afterDdl((c) => {
      const price = c.table("book").columns.find((x) => x.name === "price");
      if (price) price.type = "text";
    });
    expect(findings).toMatchObject([
      {
        index: "book",
        table: "public.book",
        column: "price",
        kind: "type-changed",
        was: "numeric",
        now: "text",
      },
    ]);
  });
});

describe("classifying failures", () => {
  it("recognises PostgreSQL errors drift causes, through wrapped causes", () => {
    const pgError = Object.assign(new Error("column n0.title does not exist"), { code: "42703" });
    expect(driftSqlState(pgError)).toBe("42703");
    expect(suggestsDrift(new SlotsyncError("build failed", { cause: pgError }))).toBe(true);
    expect(suggestsDrift(Object.assign(new Error("relation missing"), { code: "42P01" }))).toBe(true);
    expect(suggestsDrift(Object.assign(new Error("timeout"), { code: "57014" }))).toBe(false);
    expect(suggestsDrift(new Error("ECONNRESET"))).toBe(false);
  });

  it("SchemaDriftError is not retryable and names index, table, column and the fix", () => {
    const error = new SchemaDriftError([
      { index: "book", table: "public.book", column: "title", kind: "column-missing", fix: "do this" },
    ]);
    expect(error).toBeInstanceOf(SlotsyncError);
    expect(error.retryable).toBe(false);
    expect(error.where).toBe("index book, table public.book, column title");
    expect(error.message).toBe("schema drift: index book: column public.book.title is missing");
    expect(error.toLine()).toContain("do this");
  });
});
