/**
 * The chaos database: a root (book) with children in both key directions (publisher: the parent
 * holds the key; review: the child holds it), a second level (review → reviewer), a through
 * table (book_author) whose primary key holds both keys, and editions partitioned by year, whose
 * node takes every column (partitions and columns come and go under load: test/chaos/operations.ts).
 */
/** The first year of editions, and how many years have a partition at the start. */
export const FIRST_YEAR = 2000;
export const INITIAL_YEARS = 5;

export const CHAOS_DDL = `
CREATE TABLE publisher (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE reviewer (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE author (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE book (
  id bigint PRIMARY KEY,
  title text NOT NULL,
  -- Not in any document: updates of it must cause no work.
  stock int NOT NULL DEFAULT 0,
  publisher_id int REFERENCES publisher (id) ON DELETE SET NULL
);
CREATE TABLE review (
  id bigint PRIMARY KEY,
  book_id bigint NOT NULL REFERENCES book (id) ON DELETE CASCADE ON UPDATE CASCADE,
  reviewer_id int REFERENCES reviewer (id) ON DELETE SET NULL,
  stars int NOT NULL,
  body text NOT NULL
);
CREATE INDEX ON review (book_id);
CREATE TABLE book_author (
  book_id bigint NOT NULL REFERENCES book (id) ON DELETE CASCADE ON UPDATE CASCADE,
  author_id int NOT NULL REFERENCES author (id) ON DELETE CASCADE,
  PRIMARY KEY (book_id, author_id)
);
CREATE INDEX ON book_author (author_id);
-- A review can move to another book: its UPDATE and DELETE records must carry the old book_id.
ALTER TABLE review REPLICA IDENTITY FULL;
CREATE SEQUENCE book_ids START 1000000;
CREATE SEQUENCE review_ids START 1000000;
-- No foreign key: an edition of a deleted book belongs to no document, and a detached partition
-- can always be attached again.
CREATE TABLE edition (
  id bigint NOT NULL,
  year int NOT NULL,
  book_id bigint NOT NULL,
  format text NOT NULL,
  PRIMARY KEY (id, year)
) PARTITION BY RANGE (year);
CREATE INDEX ON edition (book_id);
DO $$
BEGIN
  FOR y IN ${FIRST_YEAR}..${FIRST_YEAR + INITIAL_YEARS - 1} LOOP
    EXECUTE format('CREATE TABLE edition_%s PARTITION OF edition FOR VALUES FROM (%s) TO (%s)', y, y, y + 1);
    -- An edition can move to another book: its UPDATE and DELETE records must carry the old book_id.
    EXECUTE format('ALTER TABLE edition_%s REPLICA IDENTITY FULL', y);
  END LOOP;
END $$;
CREATE SEQUENCE edition_ids START 1000000;
-- The years of the partitions the load creates.
CREATE SEQUENCE edition_years START ${FIRST_YEAR + INITIAL_YEARS};
`;

/** Initial rows: `books` books with reviews and authors. */
export function seedSql(books: number): string {
  return `
INSERT INTO publisher SELECT g, 'publisher ' || g FROM generate_series(1, 50) g;
INSERT INTO reviewer SELECT g, 'reviewer ' || g FROM generate_series(1, 200) g;
INSERT INTO author SELECT g, 'author ' || g FROM generate_series(1, 300) g;
INSERT INTO book SELECT g, 'title ' || g, g % 17, 1 + g % 50 FROM generate_series(1, ${books}) g;
INSERT INTO review SELECT g, 1 + (g * 7) % ${books}, 1 + g % 200, g % 5, 'review ' || g FROM generate_series(1, ${books * 2}) g;
INSERT INTO book_author SELECT DISTINCT 1 + (g * 3) % ${books}, 1 + g % 300 FROM generate_series(1, ${books * 2}) g;
INSERT INTO edition SELECT g, ${FIRST_YEAR} + g % ${INITIAL_YEARS}, 1 + (g * 11) % ${books}, 'format ' || g % 3 FROM generate_series(1, ${books}) g;
`;
}

export function chaosSchema(database: string, index: string): unknown {
  return [
    {
      database,
      index,
      nodes: {
        table: "book",
        columns: ["id", "title"],
        children: [
          {
            table: "publisher",
            columns: ["id", "name"],
            label: "publisher",
            relationship: { type: "one_to_one", variant: "object" },
          },
          {
            table: "review",
            columns: ["id", "stars", "body"],
            label: "reviews",
            relationship: { type: "one_to_many", variant: "object" },
            children: [
              {
                table: "reviewer",
                columns: ["name"],
                label: "reviewer",
                relationship: { type: "one_to_one", variant: "scalar" },
              },
            ],
          },
          {
            table: "author",
            columns: ["name"],
            label: "authors",
            relationship: { type: "one_to_many", variant: "scalar", through_tables: ["book_author"] },
          },
          {
            // Every column, also those the run adds.
            table: "edition",
            label: "editions",
            relationship: {
              type: "one_to_many",
              variant: "object",
              foreign_key: { child: ["book_id"], parent: ["id"] },
            },
          },
        ],
      },
    },
  ];
}
