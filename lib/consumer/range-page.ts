import { DEFAULT_RANGE_PAGE_TEXT } from "./types";

/**
 * The first page of a batch's ranges asks for at most this many rows, before the rows' width is
 * known: a page of 2,500 rows of 100 KB documents would hold 250 MB of text.
 */
export const FIRST_RANGE_PAGE_ROWS = 250;

/**
 * Rows per range page, bounded by document text as well as by rows: each page's size is fitted to
 * the width of the rows read so far in the batch, so a table of wide rows is copied in smaller
 * pages instead of pages that could exhaust the consumer's memory.
 */
export class RangePageSizer {
  /** Characters of document text per row, leaning to the widest pages seen; unset before any. */
  private perRow: number | undefined;

  constructor(
    private readonly maxRows: number,
    private readonly maxText: number = DEFAULT_RANGE_PAGE_TEXT,
  ) {
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      throw new RangeError(`rangePageSize must be a whole number of at least 1, got ${maxRows}`);
    }
    if (!(maxText > 0)) throw new RangeError(`rangePageText must be above 0, got ${maxText}`);
  }

  /** Rows to ask for in the next page. */
  next(): number {
    if (this.perRow === undefined) return Math.min(this.maxRows, FIRST_RANGE_PAGE_ROWS);
    return Math.max(1, Math.min(this.maxRows, Math.floor(this.maxText / Math.max(1, this.perRow))));
  }

  /** Takes in a page: `rows` documents built from `textLength` characters of document text. */
  observe(rows: number, textLength: number): void {
    const latest = textLength / rows;
    if (!(rows > 0) || !Number.isFinite(latest)) return;
    // A wider page counts at once; a narrower one halves the distance, so one page of short rows
    // in a table of wide ones does not make the next page many times larger.
    this.perRow = this.perRow === undefined || latest >= this.perRow ? latest : (this.perRow + latest) / 2;
  }
}
