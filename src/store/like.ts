/** A LIKE pattern (with `escape '\'`) matching text that contains `search`; `%` and `_` in it are literal. */
export function containsPattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
