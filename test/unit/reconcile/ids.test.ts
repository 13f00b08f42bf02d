import { describe, expect, it } from "vitest";
import { keyCandidates } from "../../../lib/reconcile";
import type { ResolvedTable } from "../../../lib/schema";

function table(types: string[]): ResolvedTable {
  return {
    schema: "public",
    name: "t",
    kind: "table",
    replicaIdentity: "default",
    primaryKey: types.map((_, i) => `k${i}`),
    primaryKeyTypes: types,
    primaryKeyBaseTypes: types,
    columns: [],
    partitions: [],
  };
}

describe("keyCandidates", () => {
  it("a single-column key is the whole id, `|` included", () => {
    expect(keyCandidates(table(["text"]), "a|b")).toEqual([["a|b"]]);
  });

  it("a composite key splits at `|`; values containing it give every possible split", () => {
    expect(keyCandidates(table(["integer", "date"]), "7|2025-03-01")).toEqual([["7", "2025-03-01"]]);
    expect(keyCandidates(table(["text", "text"]), "a|b|c")).toEqual([
      ["a", "b|c"],
      ["a|b", "c"],
    ]);
  });

  it("an id with fewer parts than the key names no row", () => {
    expect(keyCandidates(table(["integer", "integer"]), "7")).toEqual([]);
  });

  it("reads PGSync's booleans back", () => {
    expect(keyCandidates(table(["boolean", "integer"]), "True|3")).toEqual([["true", "3"]]);
  });
});
