import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildIndexBody,
  createDocumentBuilder,
  DocumentBuilder,
  type DocumentResult,
} from "../../lib/document";
import { parseSchema, type ResolvedIndex, resolveSchema } from "../../lib/schema";
import { createFixtureDatabase, readSchemaFixture, schemaFixtureDir, type TestDatabase } from "../support/pg";

let db: TestDatabase;
let index: ResolvedIndex;

async function resolveFixture(file: string): Promise<ResolvedIndex> {
  const spec = parseSchema(await readSchemaFixture("bookstore", file), { env: { DATABASE: db.name } });
  const resolved = await resolveSchema(spec, db.client);
  const [first] = resolved.indices;
  if (!first) throw new Error("no index");
  return first;
}

beforeAll(async () => {
  db = await createFixtureDatabase("bookstore");
  index = await resolveFixture("schema.json");
});
afterAll(async () => {
  await db?.drop();
});

const charlie = {
  book_id: 1,
  // replace "978" -> "978-" runs on the isbn after its rename to book_isbn.
  book_isbn: "978-5811243570",
  book_title: "Charlie and the chocolate factory",
  description: "Willy Wonka's famous chocolate factory",
  tags: ["a", "b"],
  doc_firstname: "Roald",
  doc_coordinates: [1.5, 2],
  "doc_a,b,c_4": "four",
  doc_x: [{ y: 1 }, { z: 2 }],
  doc_x_0_y: 1,
  doc_x_1_z: 2,
  publish_date: "1964-01-17T09:30:00",
  price: 12.5,
  publisher_label: {
    publisher_name: "Oxford Press",
    publisher_id: 1,
    is_active: true,
    xyz: "1_Oxford Press_True_foo",
  },
  book_languages: [
    { book_isbn: "9785811243570", language_id: 1 },
    { book_isbn: "9785811243570", language_id: 3 },
  ],
  authors: [
    {
      id: 1,
      name: "Roald Dahl",
      date_of_birth: "1916-09-13T00:00:00",
      city_label: { name: "Cardiff", id: 1, country_label: { id: 1, continent_label: { name: "Europe" } } },
    },
  ],
  languages: ["en_GB", "fr_FR"],
  subjects: ["Fiction", "Children"],
  ratings: { score: { value: 4.5 } },
  reviews: [
    { reviewer: "ann", stars: 5, created_at: "2024-01-02T03:04:05+00:00" },
    { reviewer: "bob", stars: 3, created_at: "2024-02-03T04:05:06.789+00:00" },
  ],
  countries: ["United Kingdom"],
};

const kafka = {
  book_id: 2,
  // Every occurrence is replaced, as Python's str.replace does.
  book_isbn: "978-8374950978-",
  book_title: "Kafka on the Shore",
  description: "Kafka on the Shore is a 2002 novel",
  tags: null,
  doc_firstname: "Haruki",
  doc_coordinates: null,
  "doc_a,b,c_4": null,
  doc_x: [],
  doc_x_0_y: null,
  doc_x_1_z: null,
  publish_date: "2002-09-12T00:00:00",
  price: 8.99,
  // is_active false is skipped by concat, as Python's filter(None, ...) does.
  publisher_label: {
    publisher_name: "Penguin Books",
    publisher_id: 2,
    is_active: false,
    xyz: "2_Penguin Books_foo",
  },
  book_languages: [{ book_isbn: "9788374950978", language_id: 2 }],
  authors: [
    {
      id: 2,
      name: "Haruki Murakami",
      date_of_birth: "1949-01-12T00:00:00",
      city_label: { name: "Kyoto", id: 2, country_label: { id: 2, continent_label: { name: "Asia" } } },
    },
    {
      id: 3,
      name: "Philip Gabriel",
      date_of_birth: null,
      city_label: { name: "Kyoto", id: 2, country_label: { id: 2, continent_label: { name: "Asia" } } },
    },
  ],
  languages: ["ja_JP"],
  subjects: null,
  ratings: null,
  reviews: null,
  countries: ["Japan", "Japan"],
};

const orwell = {
  book_id: 3,
  book_isbn: "978-1471331435",
  book_title: "1984",
  description: null,
  tags: [],
  doc_firstname: null,
  doc_coordinates: null,
  "doc_a,b,c_4": null,
  doc_x: null,
  doc_x_0_y: null,
  doc_x_1_z: null,
  publish_date: null,
  price: null,
  publisher_label: {
    publisher_name: "Pearson Press",
    publisher_id: 3,
    is_active: true,
    xyz: "3_Pearson Press_True_foo",
  },
  book_languages: null,
  authors: [
    {
      id: 4,
      name: "George Orwell",
      date_of_birth: "1903-06-25T00:00:00",
      city_label: { name: "Motihari", id: 3, country_label: { id: 1, continent_label: { name: "Europe" } } },
    },
  ],
  languages: null,
  subjects: ["Fiction", "Dystopia"],
  ratings: { score: { value: 5 } },
  reviews: [{ reviewer: "cat", stars: 4, created_at: "2024-03-04T05:06:07+00:00" }],
  countries: ["United Kingdom"],
};

// No publisher, authors, languages...: one_to_one children are null, one_to_many children null (not []),
// and the $root move target is absent because nothing was moved.
const draft = {
  book_id: 4,
  book_isbn: "978-0000000001",
  book_title: "Unpublished draft",
  description: null,
  tags: null,
  doc_firstname: null,
  doc_coordinates: null,
  "doc_a,b,c_4": null,
  doc_x: null,
  doc_x_0_y: null,
  doc_x_1_z: null,
  publish_date: null,
  price: 0,
  publisher_label: null,
  book_languages: null,
  authors: null,
  languages: null,
  subjects: null,
  ratings: null,
  reviews: null,
};

const indexed = (id: string, source: object): DocumentResult => ({
  action: "index",
  _index: "bookstore",
  _id: id,
  key: [id],
  _source: source as never,
});

describe("bookstore (port of PGSync's book example)", () => {
  it("builds whole documents by key, with missing keys as deletes, in request order", async () => {
    const builder = new DocumentBuilder(index);
    expect(await builder.build(db.client, [3, 1, 404, 2, 4])).toEqual([
      indexed("3", orwell),
      indexed("1", charlie),
      { action: "delete", _index: "bookstore", _id: "404", key: ["404"], reason: "missing" },
      indexed("2", kafka),
      indexed("4", draft),
    ]);
  });

  it("tells how much document text the rows of a key query came in, missing keys without any", async () => {
    const builder = new DocumentBuilder(index);
    const built = await builder.buildKeys(db.client, [1, 404, 2]);
    expect(built.documents.map((d) => d.action)).toEqual(["index", "delete", "index"]);
    expect(built.textRows).toBe(2);
    const json = built.documents.reduce(
      (n, d) => n + (d.action === "index" ? JSON.stringify(d._source).length : 0),
      0,
    );
    expect(built.textLength).toBeGreaterThanOrEqual(json);
    // The range query builds the same rows from the same text.
    const range = await builder.buildRange(db.client, { limit: 2 });
    expect(built.textLength).toBe(range.textLength);
    expect((await builder.buildKeys(db.client, [404])).textLength).toBe(0);
  });

  it("builds the same documents by key range, page by page", async () => {
    const builder = new DocumentBuilder(index);
    const first = await builder.buildRange(db.client, { limit: 3 });
    expect(first.documents).toEqual([indexed("1", charlie), indexed("2", kafka), indexed("3", orwell)]);
    expect(first).toMatchObject({ lastKey: ["3"], more: true });
    // The page's document text as PostgreSQL sent it (" : " separators): at least the JSON's length.
    const json = first.documents.reduce(
      (n, d) => n + (d.action === "index" ? JSON.stringify(d._source).length : 0),
      0,
    );
    expect(first.textLength).toBeGreaterThanOrEqual(json);
    const second = await builder.buildRange(db.client, { after: first.lastKey, limit: 3 });
    expect(second).toMatchObject({ documents: [indexed("4", draft)], lastKey: ["4"], more: false });
    expect(second.textLength).toBeGreaterThan(0);
    const bounded = await builder.buildRange(db.client, { after: ["1"], upTo: ["2"], limit: 10 });
    expect(bounded.documents).toEqual([indexed("2", kafka)]);
  });

  it("builds from views with declared primary_key and foreign_key (PGSync's book_view)", async () => {
    const view = await resolveFixture("schema_view.json");
    expect(view.root.table.kind).toBe("view");
    const results = await new DocumentBuilder(view).build(db.client, [1, 4]);
    expect(results).toEqual([
      {
        action: "index",
        _index: "book_view",
        _id: "1",
        key: ["1"],
        _source: {
          id: 1,
          isbn: "9785811243570",
          title: "Charlie and the chocolate factory",
          description: "Willy Wonka's famous chocolate factory",
          publisher_label: { name: "Oxford Press", id: 1, is_active: true },
        },
      },
      {
        action: "index",
        _index: "book_view",
        _id: "4",
        key: ["4"],
        _source: {
          id: 4,
          isbn: "9780000000001",
          title: "Unpublished draft",
          description: null,
          publisher_label: null,
        },
      },
    ]);
  });

  it("produces the index creation body from setting, mapping and node mappings", () => {
    expect(buildIndexBody(index.spec)).toEqual({
      settings: {
        index: {
          analysis: {
            analyzer: {
              ngram_analyzer: { filter: ["lowercase"], type: "custom", tokenizer: "ngram_tokenizer" },
            },
            tokenizer: {
              ngram_tokenizer: {
                token_chars: ["letter", "digit"],
                min_gram: "9",
                type: "ngram",
                max_gram: "10",
              },
            },
          },
        },
      },
      mappings: {
        properties: {
          book_id: { type: "long" },
          book_isbn: {
            type: "text",
            fields: {
              ngram: { type: "text", analyzer: "ngram_analyzer", search_analyzer: "ngram_analyzer" },
            },
          },
          publisher_label: {
            properties: { publisher_id: { type: "long" }, publisher_name: { type: "keyword" } },
          },
          authors: {
            type: "nested",
            properties: {
              city_label: {
                properties: {
                  country_label: {
                    properties: { continent_label: { properties: { name: { type: "keyword" } } } },
                  },
                },
              },
            },
          },
        },
      },
    });
  });

  it("applies plugins from a directory in the schema's order; a dropped document becomes a delete", async () => {
    const spec = parseSchema(await readSchemaFixture("bookstore"), { env: { DATABASE: db.name } });
    const [definition] = spec;
    if (!definition) throw new Error("no index");
    definition.plugins = ["DropWithoutPublisher", "PriceInCents", "Shout"];
    const [withPlugins] = (await resolveSchema(spec, db.client)).indices;
    if (!withPlugins) throw new Error("no index");
    const builder = await createDocumentBuilder(withPlugins, {
      directory: `${schemaFixtureDir("bookstore")}/plugins`,
    });
    const [one, draftResult] = await builder.build(db.client, [1, 4]);
    expect(draftResult).toEqual({
      action: "delete",
      _index: "bookstore",
      _id: "4",
      key: ["4"],
      reason: "dropped",
    });
    expect(one).toEqual(
      indexed("1", {
        ...charlie,
        price: undefined,
        price_cents: 1250,
        book_title: "CHARLIE AND THE CHOCOLATE FACTORY",
        shouted_by: "1@bookstore",
      }),
    );
  });
});
