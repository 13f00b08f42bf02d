import { describe, expect, it } from "vitest";
import { describePlan, dropStatements, type PgsyncArtefacts, pgsyncSlotName } from "../../../lib/migrate";

const found: PgsyncArtefacts = {
  database: "Shop",
  slots: [{ name: "shop_books", plugin: "test_decoding", index: "books" }],
  otherSlots: [],
  triggers: [
    { schema: "public", table: "book", name: "public_book_notify" },
    { schema: "public", table: "book", name: "public_book_truncate" },
  ],
  functions: ["public"],
  views: ["public"],
  indices: [{ name: "books", kind: "concrete", targets: [], hasMeta: true }],
};

describe("PGSync's names", () => {
  it("names the slot as PGSync does: lower-cased database, index, only [0-9a-zA-Z_] kept", () => {
    expect(pgsyncSlotName("Shop", "books")).toBe("shop_books");
    expect(pgsyncSlotName("my-db", "book.v2")).toBe("mydb_bookv2");
  });
});

describe("dropStatements", () => {
  it("drops triggers, the view, the function, then the slot", () => {
    expect(dropStatements(found)).toEqual([
      'DROP TRIGGER IF EXISTS "public_book_notify" ON "public"."book"',
      'DROP TRIGGER IF EXISTS "public_book_truncate" ON "public"."book"',
      'DROP MATERIALIZED VIEW IF EXISTS "public"."_view"',
      'DROP FUNCTION IF EXISTS "public"."table_notify"()',
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'shop_books'",
    ]);
  });

  it("keeps what other PGSync indices of the database still use, and drops only this schema's slot", () => {
    const shared = { ...found, otherSlots: ["shop_authors"] };
    expect(dropStatements(shared)).toEqual([
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'shop_books'",
    ]);
    expect(describePlan(shared, { slotsyncSlot: "slotsync_shop", done: [] })).toContain(
      "     (triggers, view and function kept: other PGSync indices of this database still use them)",
    );
  });
});

describe("describePlan", () => {
  it("lists the artefacts, the three steps (marking those done) and what is left to the user", () => {
    const plan = describePlan(found, { slotsyncSlot: "slotsync_shop", done: ["backup"] });
    expect(plan).toContain("  index books: a concrete index with PGSync's _meta");
    expect(plan.find((l) => l.startsWith("  1. backup (done)"))).toContain(
      "clone books to books-pgsync-backup",
    );
    expect(plan.find((l) => l.startsWith("  2. bootstrap:"))).toContain(
      "one atomic _aliases call removes books",
    );
    expect(plan).toContain(
      "  Left to you (outside the database): PGSync's Redis keys queue:shop_books queue:shop_books:meta and its checkpoint file .shop_books in CHECKPOINT_PATH.",
    );
  });
});
