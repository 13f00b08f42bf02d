/**
 * PostgreSQL LSNs. The text form is `X/Y`: the high and low 32 bits of a 64-bit WAL position,
 * each in hexadecimal without leading zeros. As integers they order exactly like WAL positions,
 * which is why a commit LSN can serve as an external document version.
 */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses `X/Y` into a 64-bit integer. Throws on anything else. */
export function parseLsn(text: string): Lsn {
  const match = LSN_TEXT.exec(text);
  if (!match?.[1] || !match[2]) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Formats a 64-bit integer as PostgreSQL writes LSNs (`16/B374D848`). */
export function formatLsn(lsn: Lsn): string {
  if (lsn < 0n || lsn > 0xffffffffffffffffn) throw new Error(`LSN out of range: ${lsn}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
