/**
 * How many times a test guarding against a past flake repeats after its first
 * pass: TEST_REPEATS (default 0), which scripts/repeat-test.sh sets to show the
 * test is stable rather than lucky.
 */
export function flakeRepeats(): number {
  const raw = Number(process.env.TEST_REPEATS ?? '0');
  return Number.isInteger(raw) && raw > 0 ? raw : 0;
}
