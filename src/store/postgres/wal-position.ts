/**
 * PostgreSQL WAL positions (LSNs) as PostgreSQL prints them, `16/B374D848`: the high and low 32 bits in hex.
 * They are the consistency tokens: a replica that has replayed position P shows every commit that ended at or
 * before P.
 */
const WAL_POSITION = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;

/** The position as a number that compares correctly; undefined when the text is not a position. */
export function parseWalPosition(text: string): bigint | undefined {
  const match = WAL_POSITION.exec(text);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatWalPosition(position: bigint): string {
  return `${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}
