import { describe, expect, it } from "vitest";
import { DocumentBuilder } from "../../../lib/document";
import { documentOperation } from "../../../lib/reconcile";
import type { Queryable } from "../../../lib/schema";
import { SourceText } from "../../../lib/sink";
import { resolveIndex } from "../document/resolved";

const built = async (doc: string) => {
  const client: Queryable = {
    async query<R extends object>() {
      return { rows: [{ key: ["1"], doc }] as R[] };
    },
  };
  const index = resolveIndex({ nodes: { table: "customer", columns: ["id", "name"] } });
  const [result] = await new DocumentBuilder(index).build(client, [1]);
  if (result?.action !== "index") throw new Error("no document");
  return result;
};

describe("documentOperation", () => {
  it("hands PostgreSQL's text on untouched while nobody read the document", async () => {
    const op = documentOperation(await built('{"id" : 1, "name" : "Ann"}'), 7n, "books", ["m1"]);
    expect(op).toMatchObject({ kind: "index", index: "books", id: "1", version: 7n, ref: ["m1"] });
    expect(op.kind === "index" && op.source).toEqual(SourceText.of('{"id" : 1, "name" : "Ann"}'));
  });

  it("hands on the parsed source once it was read, or when the text holds a line break", async () => {
    const read = await built('{"id" : 1, "name" : "Ann"}');
    read._source.name = "Bob";
    const op = documentOperation(read, 7n, "books", []);
    expect(op.kind === "index" && op.source).toEqual({ id: 1, name: "Bob" });
    const broken = documentOperation(await built('{"id" : 1,\n "name" : "Ann"}'), 7n, "books", []);
    expect(broken.kind === "index" && broken.source).toEqual({ id: 1, name: "Ann" });
    const carriage = documentOperation(await built('{"id" : 1,\r "name" : "Ann"}'), 7n, "books", []);
    expect(carriage.kind === "index" && carriage.source).toEqual({ id: 1, name: "Ann" });
  });
});
