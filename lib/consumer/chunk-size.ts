import { DEFAULT_CHUNK_TEXT } from "./types";

/**
 * The first chunk of a batch (a document query's keys, a range's page) asks for at most this many
 * rows, before the rows' width is known: 2,500 rows of 100 KB documents would be 250 MB of text.
 */
export const FIRST_CHUNK_ROWS = 250;

/**
 * Rows per chunk (a document query's keys or a range's page), bounded by document text as well as
 * by rows: each chunk's size is fitted to the width of the rows read so far in the batch, so an
 * index of wide documents is built in smaller chunks instead of chunks that could exhaust the
 * consumer's memory.
 */
export class ChunkSizer {
  /** Characters of document text per row, leaning to the widest chunks seen; unset before any. */
  private perRow: number | undefined;

  /**
   * @param maxRows the row bound, and `rowsOption` the consumer option it comes from (named when
   *   it is not a whole number of at least 1).
   * @param maxText the text bound (`chunkText`).
   */
  constructor(
    private readonly maxRows: number,
    private readonly maxText: number = DEFAULT_CHUNK_TEXT,
    rowsOption = "rangePageSize",
  ) {
    if (!Number.isInteger(maxRows) || maxRows < 1) {
      throw new RangeError(`${rowsOption} must be a whole number of at least 1, got ${maxRows}`);
    }
    if (!(maxText > 0)) throw new RangeError(`chunkText must be above 0, got ${maxText}`);
  }

  /** Rows to ask for in the next chunk. */
  next(): number {
    if (this.perRow === undefined) return Math.min(this.maxRows, FIRST_CHUNK_ROWS);
    return Math.max(1, Math.min(this.maxRows, Math.floor(this.maxText / Math.max(1, this.perRow))));
  }

  /**
   * Takes in a chunk: `rows` documents built from `textLength` characters of document text (keys
   * without a root row have no text and do not count). A chunk without rows changes nothing.
   */
  observe(rows: number, textLength: number): void {
    const latest = textLength / rows;
    if (!(rows > 0) || !Number.isFinite(latest)) return;
    // A wider chunk counts at once; a narrower one halves the distance, so one chunk of short
    // rows among wide ones does not make the next many times larger.
    this.perRow = this.perRow === undefined || latest >= this.perRow ? latest : (this.perRow + latest) / 2;
  }
}
