import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DocumentBuilder } from "../../lib/document";
import { parseSchema, type ResolvedSchema, resolveSchema } from "../../lib/schema";
import { createFixtureDatabase, readSchemaFixture, type TestDatabase } from "../support/pg";

let db: TestDatabase;
let resolved: ResolvedSchema;

beforeAll(async () => {
  db = await createFixtureDatabase("composite");
  resolved = await resolveSchema(
    parseSchema(await readSchemaFixture("composite"), { env: { DATABASE: db.name } }),
    db.client,
  );
});
afterAll(async () => {
  await db?.drop();
});

const builderFor = (name: string) => {
  const index = resolved.indices.find((i) => i.spec.index === name);
  if (!index) throw new Error(`no index ${name}`);
  return new DocumentBuilder(index);
};

describe("composite keys", () => {
  it("joins on composite foreign keys, directly and through a table", () => {
    const [regions] = resolved.indices;
    expect(regions?.nodes[1]?.join).toMatchObject({
      childColumns: ["country", "region_code"],
      parentColumns: ["country", "code"],
    });
    expect(regions?.nodes[2]?.join).toMatchObject({
      kind: "through",
      throughParentColumns: ["country", "region_code", "store_no"],
      parentColumns: ["country", "region_code", "store_no"],
      throughChildColumns: ["sku"],
      childColumns: ["sku"],
    });
  });

  it("builds documents for composite root keys, with the _id joined by |", async () => {
    expect(
      await builderFor("regions").build(db.client, [
        ["GB", "WLS"],
        ["FR", "NOR"],
        ["XX", "YY"],
      ]),
    ).toEqual([
      {
        action: "index",
        _index: "regions",
        _id: "GB|WLS",
        key: ["GB", "WLS"],
        _source: {
          country: "GB",
          code: "WLS",
          name: "Wales",
          stores: [
            { store_no: 1, name: "Cardiff", products: ["Apple", "Bread"] },
            { store_no: 2, name: "Swansea", products: ["Cheese"] },
          ],
        },
      },
      {
        action: "index",
        _index: "regions",
        _id: "FR|NOR",
        key: ["FR", "NOR"],
        _source: { country: "FR", code: "NOR", name: "Normandie", stores: null },
      },
      { action: "delete", _index: "regions", _id: "XX|YY", key: ["XX", "YY"], reason: "missing" },
    ]);
  });

  it("builds documents whose parent holds a composite key", async () => {
    expect(await builderFor("stores").build(db.client, [["GB", "WLS", 1]])).toEqual([
      {
        action: "index",
        _index: "stores",
        _id: "GB|WLS|1",
        key: ["GB", "WLS", "1"],
        _source: {
          name: "Cardiff",
          region: "Wales",
          stock: [
            { sku: "A-1", qty: 10 },
            { sku: "B-2", qty: 5 },
          ],
        },
      },
    ]);
  });

  it("pages through a composite key range in key order with row comparison", async () => {
    const builder = builderFor("regions");
    const ids: string[][] = [];
    let after: string[] | undefined;
    for (;;) {
      const page = await builder.buildRange(db.client, { after, limit: 3 });
      ids.push(page.documents.map((d) => d._id));
      if (!page.more || !page.lastKey) break;
      after = page.lastKey;
    }
    expect(ids).toEqual([["FR|BRE", "FR|NOR", "GB|SCT"], ["GB|WLS"]]);
    const bounded = await builder.buildRange(db.client, {
      after: ["FR", "BRE"],
      upTo: ["GB", "SCT"],
      limit: 10,
    });
    expect(bounded.documents.map((d) => d._id)).toEqual(["FR|NOR", "GB|SCT"]);
  });
});
