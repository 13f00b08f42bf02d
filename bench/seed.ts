/**
 * The benchmark's bookstore: books with a publisher, one or two authors through `book_author` and
 * about 1.5 reviews each, the schema that turns them into documents (the same for slotsync and
 * PGSync), and throwaway databases for it.
 */
import pg from "pg";

/** The bookstore schema for `database` and `index`: PGSync keys only, so PGSync reads it unchanged. */
export function bookstoreSchema(database: string, index: string) {
  return [
    {
      database,
      index,
      nodes: {
        table: "book",
        columns: ["id", "isbn", "title", "description", "price", "published_at"],
        children: [
          {
            table: "publisher",
            label: "publisher",
            columns: ["id", "name", "country"],
            relationship: { type: "one_to_one", variant: "object" },
          },
          {
            table: "author",
            label: "authors",
            columns: ["id", "name", "born"],
            relationship: { type: "one_to_many", variant: "object", through_tables: ["book_author"] },
          },
          {
            table: "review",
            label: "reviews",
            columns: ["id", "reviewer", "stars", "body", "created_at"],
            relationship: { type: "one_to_many", variant: "object" },
          },
        ],
      },
    },
  ];
}

/** Authors in the seed; the load generator links books to them. */
export const AUTHORS = 50_000;

/** Creates the tables and fills them with `rows` books; returns the milliseconds it took. */
export async function seedBookstore(client: pg.ClientBase, rows: number): Promise<number> {
  const started = performance.now();
  await client.query(`
    CREATE TABLE publisher (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
    CREATE TABLE author (id int PRIMARY KEY, name text NOT NULL, born date);
    CREATE TABLE book (id int PRIMARY KEY, isbn text NOT NULL UNIQUE, title text NOT NULL, description text,
                       price numeric(10, 2), published_at timestamptz, publisher_id int REFERENCES publisher (id));
    CREATE TABLE book_author (book_id int NOT NULL REFERENCES book (id), author_id int NOT NULL REFERENCES author (id),
                              PRIMARY KEY (book_id, author_id));
    CREATE TABLE review (id int PRIMARY KEY, book_id int NOT NULL REFERENCES book (id), reviewer text NOT NULL,
                         stars smallint NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL);
    INSERT INTO publisher SELECT g, 'Publisher ' || g, (ARRAY['UK', 'US', 'JP', 'FR'])[g % 4 + 1] FROM generate_series(1, 500) g;
    INSERT INTO author SELECT g, 'Author ' || g, date '1940-01-01' + g FROM generate_series(1, ${AUTHORS}) g;
    INSERT INTO book SELECT g, 'isbn-' || g, 'Title of book ' || g, repeat('Words about book ' || g || '. ', 5),
                            (g % 100) + 0.99, timestamptz '2000-01-01' + g * interval '1 minute', g % 500 + 1
      FROM generate_series(1, ${rows}) g;
    INSERT INTO book_author SELECT g, g % ${AUTHORS} + 1 FROM generate_series(1, ${rows}) g;
    INSERT INTO book_author SELECT g, (g * 7) % ${AUTHORS} + 1 FROM generate_series(1, ${rows}, 2) g
      ON CONFLICT DO NOTHING;
    INSERT INTO review SELECT g, (g * 2) / 3 + 1, 'reader ' || (g % 1000), g % 5 + 1, 'A review, number ' || g,
                              timestamptz '2024-01-01' + g * interval '1 second'
      FROM generate_series(1, ${Math.round(rows * 1.5)}) g WHERE (g * 2) / 3 + 1 <= ${rows};
    CREATE INDEX ON book (publisher_id);
    CREATE INDEX ON book_author (author_id);
    CREATE INDEX ON review (book_id);
    ALTER TABLE review REPLICA IDENTITY FULL;
    ALTER TABLE book_author REPLICA IDENTITY FULL;
  `);
  // Its own statement: VACUUM cannot run in the implicit transaction of a multi-statement query.
  // The visibility map it sets lets the planner's key walk be an index-only scan.
  await client.query("VACUUM ANALYZE");
  return performance.now() - started;
}

/** The URL of `database` on the server `superUrl` points at. */
export function databaseUrl(superUrl: string, database: string): string {
  const url = new URL(superUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Creates `database`, as a copy of `template` when given (a file copy: much faster than seeding
 * again; the template must have no other connections).
 *
 * From PostgreSQL 15 a copy is written through the WAL and shared buffers by default
 * (`STRATEGY WAL_LOG`): for a 1,000,000-book template that leaves about a gigabyte of dirty pages
 * for the checkpointer to write while the next stage is measured. `FILE_COPY` copies the files
 * between two checkpoints instead.
 */
export async function createDatabase(superUrl: string, database: string, template?: string): Promise<void> {
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  try {
    let copy = "";
    if (template) {
      const { rows } = await admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      copy = ` TEMPLATE "${template}"${Number(rows[0]?.v) >= 150000 ? " STRATEGY FILE_COPY" : ""}`;
    }
    await admin.query(`CREATE DATABASE "${database}"${copy}`);
  } finally {
    await admin.end();
  }
}

/** Drops `database`, closing its connections, and every replication slot in it. */
export async function dropDatabase(superUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: superUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ slot_name: string }>(
      "SELECT slot_name FROM pg_replication_slots WHERE database = $1",
      [database],
    );
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const { slot_name } of rows)
      await admin.query("SELECT pg_drop_replication_slot($1)", [slot_name]).catch(() => undefined);
  } finally {
    await admin.end();
  }
}
