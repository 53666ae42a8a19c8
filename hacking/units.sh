#!/usr/bin/env bash
# Runs `ansible-test units` on a staged copy of the collection (what git would commit), with the checkout's .venv
# as the test environment (pytest and pytest-xdist come from tests/requirements.txt; nothing is installed here).
# Extra arguments go to ansible-test, e.g. `hacking/units.sh tests/unit/plugins/module_utils/test_az_service.py`.
# For the quick loop without ansible-test, use `make units` (plain pytest on the checkout).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hacking/ansible_test_env.sh
source "$root/hacking/ansible_test_env.sh"

ansible_test_path
prepare_get_pip
stage_collection units
cd "$collection_dir"
if ! find tests/unit -name 'test_*.py' -print -quit 2>/dev/null | grep -q .; then
  echo "units: no test_*.py under tests/unit yet, nothing to run"
  exit 0
fi
status=0
ansible-test units --python 3.11 --color no "$@" || status=$?
keep_test_output units
exit "$status"
