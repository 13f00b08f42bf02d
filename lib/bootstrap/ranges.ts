import { BootstrapError } from "./errors";

/**
 * A key range of the root table: rows with `from < key <= to` in primary-key order, `null`
 * unbounded. Bounds are the key's text values, one per primary-key column.
 */
export interface PlannedRange {
  /** Unique within the bootstrap, and self-describing: the range's bounds can be read back from it. */
  id: string;
  from: string[] | null;
  to: string[] | null;
}

/** The checkpoint store accepts range ids of at most this many characters. */
export const MAX_RANGE_ID_CHARS = 1024;

/**
 * The ranges that tile the whole key space given ascending split keys k1 < k2 < … < kn:
 * `(-∞, k1], (k1, k2], …, (kn, +∞)`. No gap: a row inserted during the copy falls in exactly one
 * range whatever its key, and the last range is open so keys above every split are copied too.
 */
export function rangesFromSplits(splits: readonly (readonly string[])[]): PlannedRange[] {
  const bounds: (string[] | null)[] = [null, ...splits.map((s) => [...s]), null];
  const ranges: PlannedRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i] ?? null;
    const to = bounds[i + 1] ?? null;
    ranges.push({ id: encodeRangeId(i, from, to), from, to });
  }
  return ranges;
}

/**
 * `000017:[["978-0"],["978-5"]]`: a sequence number (so ids sort in key order) and the bounds.
 * Carrying the bounds in the id lets a resumed bootstrap re-send a range from the checkpoint
 * store alone, without storing the plan anywhere else.
 * @throws BootstrapError when the bounds are too long for the checkpoint store's range ids.
 */
export function encodeRangeId(seq: number, from: string[] | null, to: string[] | null): string {
  const id = `${String(seq).padStart(6, "0")}:${JSON.stringify([from, to])}`;
  if (id.length > MAX_RANGE_ID_CHARS) {
    throw new BootstrapError(
      `a key range bound of the root table is too long to record (${id.length} characters, at most ${MAX_RANGE_ID_CHARS})`,
      {
        where: "root table primary key",
        fix: "root primary keys of over ~500 characters are not supported for bootstrap; key the root table by a shorter column",
      },
    );
  }
  return id;
}

/** Reads the bounds back from a range id made by {@link encodeRangeId}. */
export function decodeRangeId(id: string): PlannedRange {
  const colon = id.indexOf(":");
  const fail = (): never => {
    throw new BootstrapError(`range id ${JSON.stringify(id.slice(0, 80))} was not made by this bootstrap`, {
      where: "checkpoint store",
      fix: "reset the bootstrap with `slotsync reset` and start it again",
    });
  };
  if (colon < 1 || !/^\d+$/.test(id.slice(0, colon))) fail();
  let parsed: unknown;
  try {
    parsed = JSON.parse(id.slice(colon + 1));
  } catch {
    fail();
  }
  const bound = (value: unknown): string[] | null => {
    if (value === null) return null;
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
      return value as string[];
    }
    return fail();
  };
  if (!Array.isArray(parsed) || parsed.length !== 2) fail();
  const [from, to] = parsed as unknown[];
  return { id, from: bound(from), to: bound(to) };
}

/** Keeps split keys strictly ascending (as SQL ordered them) and drops repeats a sample may hold. */
export function distinctSplits(splits: readonly (readonly string[])[]): string[][] {
  const out: string[][] = [];
  let last: string | undefined;
  for (const s of splits) {
    const text = JSON.stringify(s);
    if (text === last) continue;
    last = text;
    out.push([...s]);
  }
  return out;
}
