/**
 * LSNs on the wire: unsigned decimal strings, `bigint` in memory, because they exceed 2^53 on
 * long-lived clusters and a JavaScript number would round them — and a rounded version could let
 * a stale document win. (PostgreSQL's `16/B374D848` text form is handled in lib/slot.)
 */

/** The largest value an LSN (an unsigned 64-bit integer) can take. */
export const MAX_LSN = (1n << 64n) - 1n;

const DECIMAL_U64 = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Parses an unsigned decimal LSN (`"18446744073709551615"`); undefined when the text is not one:
 * a sign, leading zeros, spaces, an exponent or a value above 2^64-1 are all refused.
 */
export function parseDecimalLsn(text: string): bigint | undefined {
  if (!DECIMAL_U64.test(text)) return undefined;
  const value = BigInt(text);
  return value <= MAX_LSN ? value : undefined;
}

/** True when `value` is a bigint within the unsigned 64-bit range. */
export function isLsn(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= 0n && value <= MAX_LSN;
}
