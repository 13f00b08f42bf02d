import { describe, expect, it } from "vitest";
import { FIRST_RANGE_PAGE_ROWS, RangePageSizer } from "../../../lib/consumer/range-page";

describe("RangePageSizer", () => {
  it("asks for a small first page, then as many rows as fit the text bound, at most maxRows", () => {
    const pages = new RangePageSizer(2500, 1_000_000);
    expect(pages.next()).toBe(FIRST_RANGE_PAGE_ROWS);
    pages.observe(250, 250 * 100);
    expect(pages.next()).toBe(2500); // 100 characters a row: 10,000 would fit
    pages.observe(2500, 2500 * 5000);
    expect(pages.next()).toBe(200); // 5,000 a row: 1,000,000 / 5,000
  });

  it("counts a wider page at once and a narrower one by half the distance", () => {
    const pages = new RangePageSizer(10_000, 1_000_000);
    pages.observe(10, 10 * 1000);
    expect(pages.next()).toBe(1000);
    pages.observe(10, 10 * 100); // narrower: 550 per row
    expect(pages.next()).toBe(Math.floor(1_000_000 / 550));
    pages.observe(10, 10 * 4000); // wider: 4,000 per row at once
    expect(pages.next()).toBe(250);
  });

  it("asks for one row at least, whatever the width, and ignores empty pages", () => {
    const pages = new RangePageSizer(100, 1000);
    pages.observe(0, 0);
    expect(pages.next()).toBe(100); // still before any width: min(first page, maxRows)
    pages.observe(1, 1_000_000);
    expect(pages.next()).toBe(1);
  });

  it("refuses a page size below one row", () => {
    expect(() => new RangePageSizer(0)).toThrow(/rangePageSize/);
    expect(() => new RangePageSizer(10, 0)).toThrow(/rangePageText/);
  });
});
