/**
 * "Did you mean" suggestions for misspelt keys, table and column names.
 */

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours
 * (optimal string alignment), so the common typo `lable` is one edit from `label`.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1] as number[];
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] ?? 0;
}

/**
 * The closest candidate to `word`, or undefined when nothing is close enough to be a plausible typo.
 * Case differences count as free so `Table` suggests `table`. With `uniquePrefix` (command-line
 * words), a word of two letters or more that begins exactly one candidate suggests it too.
 */
export function closest(
  word: string,
  candidates: Iterable<string>,
  options: { uniquePrefix?: boolean } = {},
): string | undefined {
  const lower = word.toLowerCase();
  // Short words tolerate fewer edits, or every two-letter key would "suggest" every other one.
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const prefixed: string[] = [];
  for (const candidate of candidates) {
    if (options.uniquePrefix && word.length >= 2 && candidate.toLowerCase().startsWith(lower))
      prefixed.push(candidate);
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= limit) return best;
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `; did you mean "x"?` or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const suggestion = closest(word, candidates);
  return suggestion === undefined ? "" : `; did you mean "${suggestion}"?`;
}
