#!/usr/bin/env bash
# Runs `ansible-test sanity` on a staged copy of the collection (what git would commit), offline except for the
# package index, from which ansible-test fills its own per-test virtual environments (~/.ansible/test/venv, cached).
# Extra arguments go to ansible-test, e.g. `hacking/sanity.sh --test pylint` or `hacking/sanity.sh --list-tests`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hacking/ansible_test_env.sh
source "$root/hacking/ansible_test_env.sh"

ansible_test_path
prepare_get_pip
stage_collection sanity
cd "$collection_dir"
status=0
ansible-test sanity --python 3.11 --color no "$@" || status=$?
keep_test_output sanity
exit "$status"
