#!/usr/bin/env bash
# Runs ansible-lint (production profile, offline, settings in .ansible-lint) over the collection: playbooks, roles,
# extensions, integration-test playbooks, galaxy.yml and meta/. Extra arguments go to ansible-lint.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH"
# Resolve kfuse.failover.* (modules, the az_service action group) from this checkout, the rest from the ansible package.
export ANSIBLE_COLLECTIONS_PATH="$root/.build/collections"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1
exec ansible-lint --offline --profile production "$@"
