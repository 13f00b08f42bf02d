import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentBuilder } from "../../lib/document";
import { parseSchema, type ResolvedIndex, resolveSchema } from "../../lib/schema";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";

let db: TestDatabase;
let index: ResolvedIndex;

beforeAll(async () => {
  db = await createFixtureDatabase("hostile");
  const resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("hostile"), { env: { DATABASE: db.name } }),
    db.client,
  );
  const [first] = resolved.indices;
  if (!first) throw new Error("no index");
  index = first;
});
afterAll(async () => {
  await db?.drop();
});

describe("hostile identifiers in a non-public schema", () => {
  it("treats quotes, semicolons, comments, backslashes and dollars in names as names", async () => {
    const builder = new DocumentBuilder(index);
    expect(await builder.build(db.client, [1, "2"])).toEqual([
      {
        action: "index",
        _index: "hostile",
        _id: "1",
        key: ["1"],
        _source: {
          "id; DROP TABLE victim": 1,
          "'); DROP TABLE victim; --": "O'Brien",
          "sp ace": "a b",
          "back\\slash": "c:\\temp",
          dollar$$: "$$ $1 $$",
          "doc_it's_a\\b": "ok",
          'it\'s "kids"': [
            { ID: 10, "E'x'": "E'x'" },
            { ID: 11, "E'x'": '";--' },
          ],
        },
      },
      { action: "delete", _index: "hostile", _id: "2", key: ["2"], reason: "missing" },
    ]);
    const range = await builder.buildRange(db.client, { after: ["0"], upTo: ["1"], limit: 5 });
    expect(range.documents.map((d) => d._id)).toEqual(["1"]);
  });

  it("leaves the victim table alone", async () => {
    const { rows } = await db.client.query<{ id: number }>("SELECT id FROM victim");
    expect(rows).toEqual([{ id: 1 }]);
  });

  it("passes hostile key values as parameters, never as SQL", async () => {
    const error = await new DocumentBuilder(index)
      .build(db.client, ["1; DROP TABLE victim"])
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/invalid input syntax for type integer/);
    const { rows } = await db.client.query<{ id: number }>("SELECT id FROM victim");
    expect(rows).toEqual([{ id: 1 }]);
  });
});
