/**
 * PGSync's own example schemas where its documents and slotsync's differ (ancestry, quiz, social,
 * shop; book is the bookstore case of pgsync-compat.test.ts), recreated with the shapes and data of
 * PGSync's model and data scripts, run through PGSync 7.3.0 and slotsync's builder. Each test
 * asserts the measured difference exactly and equality everywhere else; each difference is a row
 * of docs/guides/pgsync-compatibility.md.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { stringifyJson } from "../../lib/document";
import { ensurePgsync } from "../support/pgsync";
import { type Compared, pgsyncComparer, withoutMeta } from "../support/pgsync-compare";

const comparer = pgsyncComparer();
afterAll(() => comparer.close());

function sameIds({ pgsync, slotsync }: Compared): string[] {
  const ids = [...pgsync.keys()].sort();
  expect(ids).toEqual([...slotsync.keys()].sort());
  return ids;
}

describe("PGSync 7.3.0 and slotsync on PGSync's example schemas", () => {
  it("ancestry: PGSync fills 1 of the 6 children (through surrogate) and gives null for 5; slotsync gives all 6", async () => {
    const compared = await comparer.compare("pgsync-ancestry", 8);
    const ids = sameIds(compared);
    expect(ids).toEqual(["1", "2", "3"]);
    const children = (source: Record<string, unknown>) => source.children as ({ id: number } | null)[];
    const theirs = ids.flatMap((id) => children(withoutMeta(compared.pgsync.get(id))));
    const mine = ids.flatMap((id) => children(compared.slotsync.get(id) ?? {}));
    // One entry per surrogate on both sides; PGSync's is filled only where child.parent_id
    // equals both the surrogate's id and the parent's id (child 1 of parent 1).
    expect(theirs.map((c) => c?.id ?? null)).toEqual([1, null, null, null, null, null]);
    expect(mine.map((c) => c?.id ?? null)).toEqual([1, 2, 3, 4, 5, 6]);
    // Where PGSync did fill the entry, it is the same subtree (grand and great grand children).
    expect(theirs[0]).toEqual(mine[0]);
    // Apart from the children list, the documents are equal.
    for (const id of ids) {
      const { children: _a, ...own } = withoutMeta(compared.pgsync.get(id));
      const { children: _b, ...rest } = compared.slotsync.get(id) ?? {};
      expect(own).toEqual(rest);
    }
  }, 300_000);

  it("quiz: one_to_one through real_answer is an array on both sides; PGSync keeps only the first column", async () => {
    const compared = await comparer.compare("pgsync-quiz", 9);
    const ids = sameIds(compared);
    expect(ids).toEqual(["1|q001", "2|q002"]);
    const theirs = withoutMeta(compared.pgsync.get("1|q001"));
    const mine = compared.slotsync.get("1|q001") ?? {};
    expect(theirs.real_answers).toEqual([{ id: 1 }]);
    expect(mine.real_answers).toEqual([{ id: 1, text: "Red" }]);
    expect(withoutMeta(compared.pgsync.get("2|q002")).real_answers).toEqual([{ id: 4 }]);
    expect(compared.slotsync.get("2|q002")?.real_answers).toEqual([{ id: 4, text: "No" }]);
    // Everything else (the one_to_many through possible_answer included) is equal.
    for (const id of ids) {
      const { real_answers: _a, ...own } = withoutMeta(compared.pgsync.get(id));
      const { real_answers: _b, ...rest } = compared.slotsync.get(id) ?? {};
      expect(own).toEqual(rest);
    }
  }, 300_000);

  it("social: the same tags, posts and comments; slotsync orders a list by the child's key", async () => {
    const compared = await comparer.compare("pgsync-social", 10);
    const ids = sameIds(compared);
    expect(ids).toEqual(["1", "2", "3"]);
    for (const id of ids) {
      const { tags: theirTags, ...own } = withoutMeta(compared.pgsync.get(id));
      const { tags: myTags, ...rest } = compared.slotsync.get(id) ?? {};
      expect(own).toEqual(rest);
      expect([...(theirTags as string[])].sort()).toEqual([...(myTags as string[])].sort());
    }
    // Carla's user_tag rows were added Lifestyle (tag 12) before Health (tag 8). slotsync lists
    // tags by tag key; PGSync's json_agg has no ORDER BY and follows the plan's row order, which
    // PostgreSQL does not promise (here: the link table's insertion order).
    expect(compared.slotsync.get("1")?.tags).toEqual([
      "Economics",
      "Career",
      "Political",
      "Health",
      "Lifestyle",
    ]);
    expect(withoutMeta(compared.pgsync.get("1")).tags).not.toEqual(compared.slotsync.get("1")?.tags);
  }, 300_000);

  it("shop: equal documents; a numeric 899.0 is written 899.0 by PGSync and 899 by slotsync", async () => {
    const compared = await comparer.compare("pgsync-shop", 11);
    const ids = sameIds(compared);
    expect(ids).toEqual(["1", "2"]);
    for (const id of ids) expect(withoutMeta(compared.pgsync.get(id))).toEqual(compared.slotsync.get(id));
    const theirs = compared.pgsyncText.get("1") ?? "";
    const mine = stringifyJson((compared.slotsync.get("1") ?? {}) as never);
    // PGSync decodes PostgreSQL's JSON with Python, where 899.0 is a float and is written back as
    // 899.0; JavaScript has one number type, so slotsync writes 899 (the same value).
    expect(theirs).toContain('"name":"Laptop","price":899.0}');
    expect(theirs).toContain('"name":"Cookbook","price":22.0}');
    expect(mine).toContain('"name":"Laptop","price":899}');
    expect(mine).toContain('"name":"Cookbook","price":22}');
    // Values with a fraction are written alike.
    expect(theirs).toContain('"price":49.99');
    expect(mine).toContain('"price":49.99');
  }, 300_000);
});

describe("PGSync 7.3.0 and slotsync where PGSync's source predicts a difference", () => {
  it("timestamp keys, concat of 1.0, a one_to_one over a non-unique join", async () => {
    const compared = await comparer.compare("pgsync-edges", 7);
    // _id: the key as Python's str() writes a datetime, fraction padded to 6 digits, on both sides.
    expect(sameIds(compared)).toEqual(["2024-01-02 10:00:00.500000", "2024-01-02 11:00:00"]);
    const id = "2024-01-02 10:00:00.500000";
    const theirs = withoutMeta(compared.pgsync.get(id));
    const mine = compared.slotsync.get(id) ?? {};
    // concat: a double precision 1.0 reaches both as 1; a numeric 1.0 reaches PGSync as the
    // Python float 1.0, whose str() is "1.0", and slotsync as the number 1.
    expect(theirs.tag).toBe("a-1-1.0");
    expect(mine.tag).toBe("a-1-1");
    expect(compared.pgsyncText.get(id)).toContain('"ratio":1,"weight":1.0,');
    // one_to_one with two matching notes: PGSync's query yields the root row once per note and
    // the last one written wins (here note 2, the heap order of a fresh table); slotsync takes the
    // first by primary key.
    expect(theirs.note).toEqual({ id: 2, body: "second" });
    expect(mine.note).toEqual({ id: 1, body: "first" });
    const { tag: _a, note: _b, ...ownTheirs } = theirs;
    const { tag: _c, note: _d, ...ownMine } = mine;
    expect(ownTheirs).toEqual(ownMine);
    // The other reading (one note, fractional values) is the same document.
    expect(withoutMeta(compared.pgsync.get("2024-01-02 11:00:00"))).toEqual(
      compared.slotsync.get("2024-01-02 11:00:00"),
    );
  }, 300_000);
});

describe("PGSync 7.3.0's settings", () => {
  it("are the variables test/fixtures/pgsync/settings-7.3.0.txt lists (each read by slotsync or warned about)", async () => {
    const venv = await ensurePgsync();
    const { stdout } = await promisify(execFile)(venv.python, [
      "-c",
      "import importlib.util; print(importlib.util.find_spec('pgsync').submodule_search_locations[0])",
    ]);
    const settings = readFileSync(join(stdout.trim(), "settings.py"), "utf8");
    // Every quoted upper-case name in settings.py is a variable it reads, but for log level values.
    const names = new Set(
      [...settings.matchAll(/"([A-Z][A-Z0-9_]{2,})"/g)]
        .map((m) => m[1] as string)
        .filter((name) => !["DEBUG", "INFO", "WARNING"].includes(name)),
    );
    const listed = readFileSync(new URL("../fixtures/pgsync/settings-7.3.0.txt", import.meta.url), "utf8")
      .split("\n")
      .filter((line) => line && !line.startsWith("#"));
    expect([...names].sort()).toEqual([...listed].sort());
  }, 300_000);
});
