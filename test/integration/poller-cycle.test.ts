import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CYCLE_OPTIONS, runCycle } from "../../lib/poller";
import { ChangeResolver } from "../../lib/resolve";
import type { ResolvedSchema } from "../../lib/schema";
import { PgSlotReader } from "../../lib/slot";
import { CollectingPublisher } from "../support/collecting-publisher";
import {
  applySchemaFixture,
  createTestDatabase,
  resolveSchemaFixture,
  type TestDatabase,
} from "../support/pg";

const slot = `slotsync_cycle_${randomBytes(4).toString("hex")}`;
let db: TestDatabase;
let conn: pg.Client;
let schema: ResolvedSchema;
let resolver: ChangeResolver;
const publisher = new CollectingPublisher();

/** Runs `sql`, then one poller cycle; returns the book ids handed on. */
async function keysAfter(...sql: string[]): Promise<string[]> {
  for (const statement of sql) await db.client.query(statement);
  publisher.clear();
  const reader = new PgSlotReader(conn, slot);
  await runCycle({ db: conn, reader, resolver, publisher });
  return publisher.keys("bookstore");
}

/** Book ids selected by an independent query, sorted like `keys()`. */
async function books(where: string): Promise<string[]> {
  const { rows } = await db.client.query<{ id: string }>(`SELECT id::text AS id FROM book WHERE ${where}`);
  return rows.map((r) => r.id).sort();
}

beforeAll(async () => {
  db = await createTestDatabase("cycle");
  await applySchemaFixture(db.client, "bookstore");
  schema = await resolveSchemaFixture(db, "bookstore");
  // What validate and bootstrap offer to run: the old row of moved or deleted children.
  for (const need of schema.replicaIdentityNeeds) await db.client.query(need.sql);
  await db.client.query("ALTER TABLE book REPLICA IDENTITY FULL");
  resolver = new ChangeResolver(schema);
  await db.client.query("SELECT pg_create_logical_replication_slot($1, 'wal2json')", [slot]);
  conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
});

afterAll(async () => {
  await conn?.end();
  await db?.client.query("SELECT pg_drop_replication_slot($1)", [slot]).catch(() => undefined);
  await db?.drop();
});

beforeEach(() => publisher.clear());

describe("poller cycle: which documents a change affects", () => {
  it("reports the replica identity the resolver needs", () => {
    const tables = schema.replicaIdentityNeeds.map((n) => n.table.name).sort();
    expect(tables).toContain("review");
    // A through table whose primary key holds both keys needs nothing.
    expect(tables).not.toContain("book_subject");
  });

  it("root insert, update and delete", async () => {
    expect(await keysAfter("INSERT INTO book (id, isbn, title) VALUES (50, 'i50', 'new')")).toEqual(["50"]);
    expect(await keysAfter("UPDATE book SET title = 'renamed' WHERE id = 50")).toEqual(["50"]);
    expect(await keysAfter("DELETE FROM book WHERE id = 50")).toEqual(["50"]);
  });

  it("a primary key change affects the old and the new document", async () => {
    expect(await keysAfter("UPDATE book SET id = 40 WHERE id = 4")).toEqual(["4", "40"]);
    expect(await keysAfter("UPDATE book SET id = 4 WHERE id = 40")).toEqual(["4", "40"]);
  });

  it("an update of a column no document uses causes no work", async () => {
    expect(await keysAfter("UPDATE book SET copyright = 'c' WHERE id = 1")).toEqual([]);
  });

  it("parent holds the key: a publisher change rebuilds its books", async () => {
    expect(await keysAfter("UPDATE publisher SET name = 'Oxford UP' WHERE id = 1")).toEqual(
      await books("publisher_id = 1"),
    );
  });

  it("a lookup row referenced by many roots is handed on in pages as its keys are found, none missing", async () => {
    await db.client.query(
      "INSERT INTO book (id, isbn, title, publisher_id) SELECT g, 'fan' || g, 'fan ' || g, 2 FROM generate_series(1000, 3499) g",
    );
    await runCycle({ db: conn, reader: new PgSlotReader(conn, slot), resolver, publisher });
    await db.client.query("UPDATE publisher SET name = 'Fan-out Press' WHERE id = 2");
    publisher.clear();
    const calls: number[] = [];
    const counting = {
      publish: async (h: Parameters<typeof publisher.publish>[0]) => {
        calls.push(h.reduce((n, x) => n + (x.kind === "keys" ? x.keys.length : 0), 0));
        await publisher.publish(h);
      },
    };
    const options = { ...DEFAULT_CYCLE_OPTIONS, publishEvery: 1000 };
    await runCycle(
      { db: conn, reader: new PgSlotReader(conn, slot), resolver, publisher: counting },
      options,
    );
    expect(publisher.keys("bookstore")).toEqual(await books("publisher_id = 2"));
    // 2,500+ keys of one lookup: several hand-ons of about a page each, not one of everything.
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...calls)).toBeLessThanOrEqual(2000);
    await db.client.query("DELETE FROM book WHERE id BETWEEN 1000 AND 3499");
    await runCycle({ db: conn, reader: new PgSlotReader(conn, slot), resolver, publisher });
  });

  it("child holds the key: moving a review affects both books, deleting one its former book", async () => {
    expect(await keysAfter("UPDATE review SET book_id = 3 WHERE id = 2")).toEqual(["1", "3"]);
    expect(await keysAfter("DELETE FROM review WHERE id = 3")).toEqual(["3"]);
    expect(
      await keysAfter(
        "INSERT INTO review (id, book_id, reviewer, stars, created_at) VALUES (9, 2, 'dan', 1, now())",
      ),
    ).toEqual(["2"]);
  });

  it("through tables: link and unlink, and a change of the linked row", async () => {
    expect(
      await keysAfter("INSERT INTO book_author (id, book_isbn, author_id) VALUES (10, '9781471331435', 1)"),
    ).toEqual(["3"]);
    expect(await keysAfter("DELETE FROM book_author WHERE id = 10")).toEqual(["3"]);
    expect(await keysAfter("UPDATE author SET name = 'R. Dahl' WHERE id = 1")).toEqual(
      await books("isbn IN (SELECT book_isbn FROM book_author WHERE author_id = 1)"),
    );
    expect(await keysAfter("INSERT INTO book_subject VALUES ('9788374950978', 2)")).toEqual(["2"]);
    expect(
      await keysAfter("DELETE FROM book_subject WHERE book_isbn = '9788374950978' AND subject_id = 2"),
    ).toEqual(["2"]);
  });

  it("several levels deep: a continent rename reaches every book with an author there", async () => {
    const expected =
      await books(`isbn IN (SELECT ba.book_isbn FROM book_author ba JOIN author a ON a.id = ba.author_id
        JOIN city ci ON ci.id = a.city_id JOIN country co ON co.id = ci.country_id WHERE co.continent_id = 2)`);
    expect(expected.length).toBeGreaterThan(0);
    expect(await keysAfter("UPDATE continent SET name = 'Asia-Pacific' WHERE id = 2")).toEqual(expected);
  });

  it("one transaction touching many tables hands on the union, once per key", async () => {
    const keys = await keysAfter(
      `BEGIN; UPDATE publisher SET name = 'P2' WHERE id = 2; UPDATE review SET stars = 2 WHERE id = 1;
       UPDATE book SET title = 't' WHERE id = 3; COMMIT`,
    );
    expect(keys).toEqual(["1", "2", "3"]);
    const handed = publisher.accepted
      .filter((h) => h.kind === "keys")
      .flatMap((h) => (h.kind === "keys" ? h.keys : []));
    expect(handed).toHaveLength(3);
  });

  it("TRUNCATE of a child rebuilds the index, of the root clears it", async () => {
    await keysAfter("TRUNCATE review");
    expect(publisher.accepted.map((h) => h.kind)).toEqual(["rebuild"]);
    await keysAfter("TRUNCATE book CASCADE");
    const kinds = publisher.accepted.map((h) => h.kind);
    expect(kinds).toContain("clear");
  });

  it("versions are commit end LSNs: later transactions get higher versions, and a cycle is not repeated", async () => {
    await keysAfter("INSERT INTO book (id, isbn, title) VALUES (60, 'i60', 'a')");
    const first = publisher.accepted[0];
    await keysAfter("UPDATE book SET title = 'b' WHERE id = 60");
    const second = publisher.accepted[0];
    if (first?.kind !== "keys" || second?.kind !== "keys") throw new Error("expected keys");
    expect(second.version > first.version).toBe(true);
    // Nothing new: the slot was advanced past both, so nothing is handed on again.
    expect(await keysAfter()).toEqual([]);
    expect(publisher.accepted).toEqual([]);
  });

  it("does not advance when the next stage refuses the keys: the same keys come again", async () => {
    await db.client.query("INSERT INTO book (id, isbn, title) VALUES (70, 'i70', 'retry')");
    const reader = new PgSlotReader(conn, slot);
    const before = (await reader.info()).confirmedFlushLsn;
    publisher.failNext = 1;
    await expect(runCycle({ db: conn, reader, resolver, publisher })).rejects.toThrow(/queue unavailable/);
    expect((await reader.info()).confirmedFlushLsn).toBe(before);
    expect(await keysAfter()).toEqual(["70"]);
  });
});
