#!/usr/bin/env bash
# Run molecule scenarios of the collection's roles on the local lab, on one or both topologies.
#   hacking/molecule.sh [--topology per-zone|shared|both] [molecule command, default test] [scenario ...]
# Scenarios default to every directory of extensions/molecule with a molecule.yml. Each run gets its own lab state
# (and molecule's ephemeral directory) under tests/output/molecule/<scenario>-<topology>, so MOLECULE_JOBS runs
# (default 2) go at once; a run's output is printed whole when it ends (progress: "started"/"ended" lines). The last
# lines are "<scenario> <topology>: passed|FAILED in N s".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
topologies=(per-zone shared)
command="test"
if [[ "${1:-}" == --topology ]]; then
  [[ "$2" == both ]] || topologies=("$2")
  shift 2
fi
if [[ $# -gt 0 && ! -d "extensions/molecule/$1" ]]; then
  command=$1
  shift
fi
scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
  for file in extensions/molecule/*/molecule.yml; do scenarios+=("$(basename "$(dirname "$file")")"); done
fi
jobs_max=${MOLECULE_JOBS:-2}
export PATH="$here/.venv/bin:$here/.tools/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$here/.build/collections"
export KFUSE_CONTROLPLANE_BIN="${KFUSE_CONTROLPLANE_BIN:-$(bash hacking/build_controlplane.sh)}"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

# One scenario on one topology, on a lab of its own in <state>; the verdict goes to <state>/verdict.
run_one() {
  local scenario=$1 topology=$2 start outcome
  export KFUSE_LAB_TOPOLOGY=$topology
  export KFUSE_LAB_STATE=$3
  export MOLECULE_EPHEMERAL_DIRECTORY="$KFUSE_LAB_STATE/molecule"
  mkdir -p "$MOLECULE_EPHEMERAL_DIRECTORY"
  # molecule links the lab's inventory before prepare writes it: start from an empty one
  [[ -e "$KFUSE_LAB_STATE/running" ]] || printf -- '---\nall: {}\n' > "$KFUSE_LAB_STATE/inventory.yml"
  start=$(date +%s)
  # molecule remembers "prepared" between runs; every run here starts a new lab, so it must prepare again
  molecule reset -s "$scenario" >/dev/null 2>&1 || true
  if molecule "$command" -s "$scenario"; then outcome=passed; else outcome=FAILED; fi
  # The lab never outlives its scenario, even when molecule stopped before its cleanup.
  .venv/bin/python tests/lab/labctl.py down --state-dir "$KFUSE_LAB_STATE" >/dev/null 2>&1 || true
  echo "$scenario $topology: $outcome in $(( $(date +%s) - start )) s" > "$KFUSE_LAB_STATE/verdict"
}

declare -A state_of=()  # the runs under way, by PID
runs=()
set -m  # each run in a process group of its own, so that an interrupt stops the whole of it
# shellcheck disable=SC2317  # run by the trap below
stop_all() {
  trap - INT TERM
  for pid in "${!state_of[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait || true
  for state in "${runs[@]}"; do .venv/bin/python tests/lab/labctl.py down --state-dir "$state" >/dev/null 2>&1 || true; done
  exit 130
}
trap stop_all INT TERM
finish() {  # print a finished run's output and verdict
  local state=${state_of[$1]}
  cat "$state/molecule.log"
  echo "=== ended: $(basename "$state") ($(cat "$state/verdict" 2>/dev/null || echo "no verdict"))"
  unset "state_of[$1]"
}
for scenario in "${scenarios[@]}"; do
  for topology in "${topologies[@]}"; do
    while (( ${#state_of[@]} >= jobs_max )); do
      wait -n -p ended || true
      finish "$ended"
    done
    state="$here/tests/output/molecule/$scenario-$topology"
    mkdir -p "$state"
    rm -f "$state/verdict"
    run_one "$scenario" "$topology" "$state" > "$state/molecule.log" 2>&1 &
    state_of[$!]=$state
    runs+=("$state")
    echo "=== started: $scenario $topology (output in $state/molecule.log)"
  done
done
while (( ${#state_of[@]} > 0 )); do
  wait -n -p ended || true
  finish "$ended"
done

failed=0
for state in "${runs[@]}"; do
  verdict=$(cat "$state/verdict" 2>/dev/null || echo "$(basename "$state"): FAILED (no verdict)")
  echo "$verdict"
  [[ "$verdict" == *": passed in "* ]] && continue
  failed=1
  # A long log scrolls the cause out of sight: repeat the lines that say why, next to the verdict.
  grep -E -A 12 'fatal: |FAILED! |ERROR |CRITICAL |Traceback ' "$state/molecule.log" | grep -v '^INFO ' | tail -n 40 \
    | sed 's/^/    /' || true
done
exit $failed
