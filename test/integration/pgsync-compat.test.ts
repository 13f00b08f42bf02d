/**
 * Documents built by PGSync 7.3.0 (run here, from PyPI) and by slotsync on the same schema and
 * data, compared document by document. Each difference asserted here is one row of
 * docs/guides/pgsync-compatibility.md.
 */
import { afterAll, describe, expect, it } from "vitest";
import { pgsyncComparer, withoutMeta } from "../support/pgsync-compare";

const comparer = pgsyncComparer();
const compare = comparer.compare;

afterAll(() => comparer.close());

describe("PGSync 7.3.0 and slotsync on the same schema and data", () => {
  it("ancestry (four levels, the first through a table): the same documents; PGSync adds _meta", async () => {
    const { pgsync, slotsync } = await compare("ancestry", 14);
    expect([...pgsync.keys()].sort()).toEqual([...slotsync.keys()].sort());
    for (const [id, source] of pgsync) {
      expect(source).toHaveProperty("_meta");
      expect(withoutMeta(source)).toEqual(slotsync.get(id));
    }
  }, 300_000);

  it("node (a self-referencing table): PGSync nests each row in itself; slotsync nests the row that points at it", async () => {
    const { pgsync, slotsync } = await compare("node", 15);
    expect([...pgsync.keys()].sort()).toEqual([...slotsync.keys()].sort());
    // PGSync 7.3.0: node 4's "child" is node 4 again, and the roots (no node points at itself) get null.
    expect(withoutMeta(pgsync.get("4"))).toEqual({
      id: 4,
      name: "Node A_A",
      node_id: 1,
      child: { id: 4, name: "Node A_A", node_id: 1, grand_child: { id: 4, name: "Node A_A", node_id: 1 } },
    });
    expect(withoutMeta(pgsync.get("1"))).toMatchObject({ child: null });
    // slotsync: the child is the row whose node_id is this row's id.
    expect(slotsync.get("4")).toEqual({
      id: 4,
      name: "Node A_A",
      node_id: 1,
      child: { id: 7, name: "Node A_A_A", node_id: 4, grand_child: null },
    });
    expect(slotsync.get("1")).toMatchObject({ child: { id: 4, grand_child: { id: 7 } } });
    // The rows' own columns agree; only the nesting differs, and it differs in every document.
    expect(pgsync.size).toBe(9);
    for (const [id, source] of pgsync) {
      expect(withoutMeta(source)).not.toEqual(slotsync.get(id));
      const { child: _a, ...own } = withoutMeta(source) ?? {};
      const { child: _b, ...mine } = slotsync.get(id) ?? {};
      expect(own).toEqual(mine);
    }
  }, 300_000);

  it("bookstore: replace on the root matches; a nested scalar list under replace is [] in PGSync; move is not applied there", async () => {
    const { pgsync, slotsync } = await compare("bookstore", 12, (schema) => {
      // The local engines lack analysis-common (the fixture's ngram analyzer): no settings, no
      // analyzer mappings; doc->coordinates holds [1.5, 2], which dynamic mapping would make long.
      for (const s of schema) {
        delete s.setting;
        s.mapping = { authors: { type: "nested" }, doc_coordinates: { type: "float" } };
        const strip = (node: { transform?: Record<string, unknown>; children?: unknown[] }) => {
          if (node.transform) delete node.transform.mapping;
          for (const child of node.children ?? []) strip(child as typeof node);
        };
        strip(s.nodes as never);
      }
    });
    const theirs = withoutMeta(pgsync.get("1")) ?? {};
    const mine = slotsync.get("1") ?? {};
    // replace on the root column: the same.
    expect(theirs.book_isbn).toBe("978-5811243570");
    expect(mine.book_isbn).toBe(theirs.book_isbn);
    // replace under a scalar list through a table: PGSync 7.3.0 empties the list.
    expect(theirs.languages).toEqual([]);
    expect(mine.languages).toEqual(expect.arrayContaining([expect.stringContaining("_")]));
    // move: PGSync 7.3.0 leaves the fields where they are.
    expect(theirs.ratings).toEqual({ value: 4.5 });
    expect(theirs).not.toHaveProperty("countries");
    expect(mine.ratings).toEqual({ score: { value: 4.5 } });
    expect(mine).toHaveProperty("countries");
  }, 300_000);
});
