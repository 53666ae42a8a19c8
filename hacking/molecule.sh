#!/usr/bin/env bash
# Run molecule scenarios of the collection's roles on the local lab, on one or both topologies.
#   hacking/molecule.sh [--topology per-zone|shared|both] [molecule command, default test] [scenario ...]
# Scenarios default to every directory of extensions/molecule with a molecule.yml. Each run gets its own lab state
# under tests/output/molecule/<scenario>-<topology>; the last lines are "<scenario> <topology>: passed|FAILED in N s".
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
export PATH="$here/.venv/bin:$here/.tools/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$here/.build/collections"
export KFUSE_CONTROLPLANE_BIN="${KFUSE_CONTROLPLANE_BIN:-$(bash hacking/build_controlplane.sh)}"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1
summary=()
failed=0
for scenario in "${scenarios[@]}"; do
  for topology in "${topologies[@]}"; do
    export KFUSE_LAB_TOPOLOGY=$topology
    export KFUSE_LAB_STATE="$here/tests/output/molecule/$scenario-$topology"
    mkdir -p "$KFUSE_LAB_STATE"
    # molecule links the lab's inventory before prepare writes it: start from an empty one
    [[ -e "$KFUSE_LAB_STATE/running" ]] || printf -- '---\nall: {}\n' > "$KFUSE_LAB_STATE/inventory.yml"
    start=$(date +%s)
    # molecule remembers "prepared" between runs; every run here starts a new lab, so it must prepare again
    molecule reset -s "$scenario" >/dev/null 2>&1 || true
    if molecule "$command" -s "$scenario"; then outcome=passed; else outcome=FAILED; failed=1; fi
    # The lab never outlives its scenario, even when molecule stopped before its cleanup.
    .venv/bin/python tests/lab/labctl.py down --state-dir "$KFUSE_LAB_STATE" >/dev/null 2>&1 || true
    summary+=("$scenario $topology: $outcome in $(( $(date +%s) - start )) s")
  done
done
printf '%s\n' "${summary[@]}"
exit $failed
