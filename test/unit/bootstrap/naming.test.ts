import { describe, expect, it } from "vitest";
import {
  BootstrapError,
  bodyHash,
  bootstrapIdFor,
  concreteIndexName,
  concreteIndexOf,
  indexVersion,
  versionOf,
} from "../../../lib/bootstrap";

describe("copy names", () => {
  it("versions are the UTC start time to the millisecond, sortable", () => {
    expect(indexVersion(new Date("2026-01-21T10:30:00.123Z"))).toBe("20260121103000123");
    expect(indexVersion(new Date("2026-01-21T10:30:00.124Z")) > "20260121103000123").toBe(true);
  });

  it("the concrete index is <index>-<version>, and the bootstrap id names it", () => {
    const version = "20260121103000123";
    expect(concreteIndexName("book", version)).toBe("book-20260121103000123");
    expect(bootstrapIdFor("book", version)).toBe("book-20260121103000123");
    expect(versionOf("book-20260121103000123")).toBe(version);
    expect(concreteIndexOf("book", "book-20260121103000123")).toBe("book-20260121103000123");
  });

  it("an index name the checkpoint store cannot use as an id gets a hashed id that keeps the version", () => {
    const version = "20260121103000123";
    const id = bootstrapIdFor("bücher", version);
    expect(id).toMatch(/^[0-9a-f]{24}-20260121103000123$/);
    expect(concreteIndexOf("bücher", id)).toBe("bücher-20260121103000123");
  });

  it("ids made elsewhere (the consumer's rebuild-<lsn>) are not bootstrap ids", () => {
    expect(versionOf("rebuild-123456")).toBeUndefined();
    expect(() => concreteIndexOf("book", "rebuild-123456")).toThrow(BootstrapError);
  });

  it("refuses a name Elasticsearch would refuse", () => {
    expect(() => concreteIndexName("a".repeat(240), "20260121103000123")).toThrow(/255 bytes/);
  });

  it("body hashes ignore key order and change with any value", () => {
    const a = bodyHash({
      settings: { index: { a: 1, b: 2 } },
      mappings: { properties: { x: { type: "long" } } },
    });
    const b = bodyHash({
      mappings: { properties: { x: { type: "long" } } },
      settings: { index: { b: 2, a: 1 } },
    });
    const c = bodyHash({
      mappings: { properties: { x: { type: "keyword" } } },
      settings: { index: { b: 2, a: 1 } },
    });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
