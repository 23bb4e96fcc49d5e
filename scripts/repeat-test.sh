#!/usr/bin/env bash
# Runs the tests matching a name pattern in one file N times on every backend the file loops over, to show a test
# that once flaked is stable rather than lucky: scripts/repeat-test.sh 200 test/client.test.ts "syncs by updatedAt"
# The test must take `{ repeats: flakeRepeats() }` (test/helpers/repeats.ts); one vitest process runs all N, since
# starting N processes on a loaded machine takes far longer than the test.
set -u
runs=${1:?runs} file=${2:?test file} name=${3:?test name pattern}
log=${LOG_FILE:-$(mktemp)}
TEST_REPEATS=$((runs - 1)) npx vitest run "$file" -t "$name" >"$log" 2>&1
status=$?
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\s*Tests\s' | tr -s ' ')
echo "runs=$runs per test; vitest:${summary}; exit=$status (log: $log)"
exit "$status"
