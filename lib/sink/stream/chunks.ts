/**
 * Groups records, in order, into requests of at most `maxCount` records and `maxBytes` body bytes.
 * A record bigger than `maxBytes` on its own is given a request of its own rather than refused:
 * the receiver's own limit is usually far above ours, and if it is not, its 413 names the record.
 *
 * @param sizes byte size of each operation, by position
 * @param positions which positions to plan (defaults to all), in the order to send them
 * @returns lists of positions, one list per request
 */
export function planChunks(
  sizes: readonly number[],
  maxCount: number,
  maxBytes: number,
  positions?: readonly number[],
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const pos of positions ?? sizes.map((_, i) => i)) {
    const size = sizes[pos] ?? 0;
    if (current.length > 0 && (current.length >= maxCount || currentBytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(pos);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
