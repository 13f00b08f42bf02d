import { describe, expect, it } from "vitest";
import { DocumentBuilder, DocumentError, sourceText } from "../../../lib/document";
import type { Queryable } from "../../../lib/schema";
import { catalog, table } from "../schema/catalog-fixture";
import { resolveIndex, SHOP } from "./resolved";

const TEXT = '{"id" : 2, "name" : "Ann", "doc" : {"n" : 9007199254740993}, "total" : 10.50}';

const client = (doc: string): Queryable => ({
  async query<R extends object>() {
    return { rows: [{ key: ["2"], doc }] as R[] };
  },
});

const build = async (definition: Record<string, unknown>, doc = TEXT, cat = SHOP) => {
  const [result] = await new DocumentBuilder(resolveIndex(definition, cat)).build(client(doc), [2]);
  if (result?.action !== "index") throw new Error("expected a document");
  return result;
};

describe("documents built without transforms or plugins", () => {
  it("keep PostgreSQL's text until their source is read, then parse it exactly", async () => {
    const doc = await build({ nodes: { table: "customer", columns: ["id", "name", "doc"] } });
    expect(sourceText(doc)).toBe(TEXT);
    expect(doc._source).toEqual({ id: 2, name: "Ann", doc: { n: 9007199254740993n }, total: 10.5 });
    // Whoever read the source may change it: the text no longer speaks for the document.
    expect(sourceText(doc)).toBeUndefined();
    doc._source.name = "Bob";
    expect(doc._source.name).toBe("Bob");
  });

  it("copy, compare and serialise as plain documents, their source included", async () => {
    const text = '{"id" : 2, "name" : "Ann"}';
    const definition = { nodes: { table: "customer", columns: ["id", "name"] }, pipeline: "enrich" };
    const plain = {
      action: "index",
      _index: "test",
      _id: "2",
      key: ["2"],
      _source: { id: 2, name: "Ann" },
      pipeline: "enrich",
    };
    const doc = await build(definition, text);
    expect(doc).toStrictEqual(expect.objectContaining(plain));
    expect(Object.keys(doc)).toEqual(["action", "_index", "_id", "key", "_source", "pipeline"]);
    const again = await build(definition, text);
    expect({ ...again }).toStrictEqual(plain);
    // Copying read the source: the text no longer speaks for the original.
    expect(sourceText(again)).toBeUndefined();
    const third = await build(definition, text);
    expect(JSON.parse(JSON.stringify(third))).toEqual(plain);
  });

  it("drop the text when their source is replaced, and keep the pipeline", async () => {
    const doc = await build({ nodes: { table: "customer", columns: ["id"] }, pipeline: "enrich" });
    expect(doc.pipeline).toBe("enrich");
    doc._source = { id: 3 };
    expect(sourceText(doc)).toBeUndefined();
    expect(doc._source).toEqual({ id: 3 });
  });

  it("refuse text that is not an object, naming the document", async () => {
    await expect(build({ nodes: { table: "customer", columns: ["id"] } }, "[1]")).rejects.toThrow(
      new DocumentError("document 2 of test is not a JSON object"),
    );
  });
});

describe("documents whose text is not sent as it is", () => {
  it("are parsed when a transform, routing or a json column (which may repeat keys) is involved", async () => {
    const transformed = await build({
      nodes: { table: "customer", columns: ["id", "name"], transform: { replace: { name: { A: "E" } } } },
    });
    expect(sourceText(transformed)).toBeUndefined();
    expect(transformed._source).toMatchObject({ name: "Enn" });

    const routed = await build({ nodes: { table: "customer", columns: ["id", "name"] }, routing: "name" });
    expect(sourceText(routed)).toBeUndefined();
    expect(routed.routing).toBe("Ann");

    const withJson = catalog(
      table("customer", ["id", "name:text", "doc:json"]),
      table("note", ["id", "customer_id", "extra:json[]"], { fks: [[["customer_id"], "customer", ["id"]]] }),
    );
    const plain = await build({ nodes: { table: "customer", columns: ["id", "name"] } }, TEXT, withJson);
    expect(sourceText(plain)).toBe(TEXT);
    const json = await build(
      { nodes: { table: "customer", columns: ["id", "doc"] } },
      '{"id" : 2, "doc" : {"a":1,"a":2}}',
      withJson,
    );
    expect(sourceText(json)).toBeUndefined();
    expect(json._source).toEqual({ id: 2, doc: { a: 2 } });
    const child = await build(
      {
        nodes: {
          table: "customer",
          columns: ["id"],
          children: [
            {
              table: "note",
              columns: ["id", "extra"],
              relationship: { type: "one_to_many", variant: "object" },
            },
          ],
        },
      },
      '{"id" : 2, "note" : null}',
      withJson,
    );
    expect(sourceText(child)).toBeUndefined();
  });
});
