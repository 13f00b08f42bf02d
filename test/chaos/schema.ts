/**
 * The chaos database: a root (book) with children in both key directions (publisher: the parent
 * holds the key; review: the child holds it), a second level (review → reviewer), and a through
 * table (book_author) whose primary key holds both keys.
 */
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
        ],
      },
    },
  ];
}
