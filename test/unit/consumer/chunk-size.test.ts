import { describe, expect, it } from "vitest";
import { ChunkSizer, FIRST_CHUNK_ROWS } from "../../../lib/consumer/chunk-size";

describe("ChunkSizer", () => {
  it("asks for a small first chunk, then as many rows as fit the text bound, at most maxRows", () => {
    const pages = new ChunkSizer(2500, 1_000_000);
    expect(pages.next()).toBe(FIRST_CHUNK_ROWS);
    pages.observe(250, 250 * 100);
    expect(pages.next()).toBe(2500); // 100 characters a row: 10,000 would fit
    pages.observe(2500, 2500 * 5000);
    expect(pages.next()).toBe(200); // 5,000 a row: 1,000,000 / 5,000
  });

  it("counts a wider chunk at once and a narrower one by half the distance", () => {
    const pages = new ChunkSizer(10_000, 1_000_000);
    pages.observe(10, 10 * 1000);
    expect(pages.next()).toBe(1000);
    pages.observe(10, 10 * 100); // narrower: 550 per row
    expect(pages.next()).toBe(Math.floor(1_000_000 / 550));
    pages.observe(10, 10 * 4000); // wider: 4,000 per row at once
    expect(pages.next()).toBe(250);
  });

  it("asks for one row at least, whatever the width, and ignores chunks without rows", () => {
    const pages = new ChunkSizer(100, 1000);
    pages.observe(0, 0);
    expect(pages.next()).toBe(100); // still before any width: min(first page, maxRows)
    pages.observe(1, 1_000_000);
    expect(pages.next()).toBe(1);
  });

  it("refuses a size below one row, naming the option it came from", () => {
    expect(() => new ChunkSizer(0)).toThrow(/rangePageSize/);
    expect(() => new ChunkSizer(0.5, 1000, "keysPerQuery")).toThrow(/keysPerQuery must be a whole number/);
    expect(() => new ChunkSizer(10, 0)).toThrow(/chunkText/);
  });
});
