#!/usr/bin/env bash
# Runs every suite (default: sanity lint units integration) through make, keeps going after a failure, prints a
# summary with durations and ends with "suites: N passed, N failed" (exit status 1 if any suite failed).
# Each suite's output is also kept in .build/test-logs/<suite>.log.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
make=${MAKE:-make}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(sanity lint units integration)
mkdir -p .build/test-logs

# The lab's control plane (built from source once per machine, minutes the first time) builds beside the first
# suites; `make integration` and `make molecule` wait on its lock and then find it cached.
if printf '%s\n' "${suites[@]}" | grep -qx -e integration -e molecule; then
  bash hacking/build_controlplane.sh > .build/test-logs/controlplane.log 2>&1 &
fi

declare -a results=()
passed=0
failed=0
started_all=$SECONDS
for suite in "${suites[@]}"; do
  echo "===== $suite ====="
  started=$SECONDS
  "$make" --no-print-directory "$suite" 2>&1 | tee ".build/test-logs/$suite.log"
  status=${PIPESTATUS[0]}
  elapsed=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    verdict=passed
    passed=$((passed + 1))
  else
    verdict="FAILED (exit $status)"
    failed=$((failed + 1))
  fi
  results+=("$(printf '%-12s %-16s %5ss' "$suite" "$verdict" "$elapsed")")
  # said at once, so that a log cut short (a CI time limit) still tells where the time went
  echo "===== $suite: $verdict in ${elapsed}s ($((SECONDS - started_all))s since the first suite) ====="
done

wait
echo "===== summary ($((SECONDS - started_all))s; logs in .build/test-logs/) ====="
printf '%s\n' "${results[@]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
