#!/usr/bin/env bash
# Runs one test (by file and name pattern) N times in fresh vitest processes and counts the failures,
# to show a test is stable rather than lucky: scripts/repeat-test.sh 200 test/client.test.ts "syncs by updatedAt"
# Each run covers every backend the file loops over. Failing runs' output is kept in $LOG_DIR.
set -u
runs=${1:?runs} file=${2:?test file} name=${3:?test name pattern}
log_dir=${LOG_DIR:-$(mktemp -d)}
passed=0 failed=0
for i in $(seq 1 "$runs"); do
  if npx vitest run "$file" -t "$name" >"$log_dir/run-$i.log" 2>&1 && grep -q ' passed' "$log_dir/run-$i.log"; then
    passed=$((passed + 1))
    rm -f "$log_dir/run-$i.log"
  else
    failed=$((failed + 1))
    echo "run $i failed: $log_dir/run-$i.log"
  fi
  echo "$i/$runs passed=$passed failed=$failed" >"$log_dir/progress"
done
echo "runs=$runs passed=$passed failed=$failed (logs of failures in $log_dir)"
[ "$failed" -eq 0 ]
