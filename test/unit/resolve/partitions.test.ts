import { describe, expect, it } from "vitest";
import { changedParents, leafKey } from "../../../lib/resolve";

const leaf = (parent: string, name: string) =>
  leafKey({ parent: { schema: "public", name: parent }, leaf: { schema: "public", name } });

describe("changedParents", () => {
  it("names the parents whose leaf set changed, once each", () => {
    const before = [leaf("orders", "orders_1"), leaf("orders", "orders_2"), leaf("note", "note_1")];
    const after = [leaf("orders", "orders_2"), leaf("orders", "orders_3"), leaf("note", "note_1")];
    expect(changedParents(before, after)).toEqual([{ schema: "public", name: "orders" }]);
  });

  it("is empty when nothing changed, whatever the order", () => {
    expect(changedParents([leaf("a", "a1"), leaf("a", "a2")], [leaf("a", "a2"), leaf("a", "a1")])).toEqual(
      [],
    );
  });

  it("a partition moved to another parent changes both", () => {
    expect(
      changedParents([leaf("a", "x")], [leaf("b", "x")])
        .map((t) => t.name)
        .sort(),
    ).toEqual(["a", "b"]);
  });
});
