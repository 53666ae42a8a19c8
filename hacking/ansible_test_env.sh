# shellcheck shell=bash
# Sourced (not executed) by hacking/sanity.sh and hacking/units.sh: stages the collection where ansible-test wants it
# and prepares the offline pip bootstrap. Callers set `root` to the checkout and run under `set -euo pipefail`.

# ansible-test 2.19 bootstraps pip 24.2 into each of its virtual environments with a get-pip script it would download;
# a stand-in in its cache makes that step offline (ensurepip, then pip from the package index).
: "${root:?set root to the checkout before sourcing}"
ansible_test_pip_version=24.2
ansible_test_cache=${HOME}/.ansible/test/cache

prepare_get_pip() {
  local target="${ansible_test_cache}/get_pip_${ansible_test_pip_version//./_}.py"
  mkdir -p "$ansible_test_cache"
  if ! cmp -s "$root/hacking/get_pip_offline.py" "$target"; then
    cp "$root/hacking/get_pip_offline.py" "$target.part"
    mv "$target.part" "$target"
  fi
}

# ansible-test resolves the collection from the working directory, which must be a real
# .../ansible_collections/kfuse/failover directory: copy what git would commit into a fresh tree
# (.build/<name>, default "sanity"; units use their own so both can run at once).
stage_collection() {
  local stage_root="$root/.build/${1:-sanity}"
  collection_dir="$stage_root/ansible_collections/kfuse/failover"
  rm -rf "$stage_root"
  mkdir -p "$collection_dir"
  (cd "$root" && git ls-files -z -co --exclude-standard \
     | while IFS= read -r -d '' path; do [ -e "$path" ] || [ -L "$path" ] && printf '%s\0' "$path"; done \
     | tar --null --no-recursion -T - -cf -) | tar -xf - -C "$collection_dir"
  # Empty directories are not tracked by git, but changelogs/fragments must exist for the changelog test.
  mkdir -p "$collection_dir/changelogs/fragments"
  # ansible-test lists files through the nearest enclosing git work tree, which would otherwise be the checkout
  # (where .build/ is ignored, so every target would be skipped): give the staged tree its own, empty repository.
  git init -q "$collection_dir"
}

# ansible-test runs from the checkout's .venv; its python must come first on PATH for `--python 3.11`.
ansible_test_path() {
  export PATH="$root/.venv/bin:$PATH"
}

# Copies the staged run's tests/output to .build/<name>-output, where it survives the next staging.
keep_test_output() {
  if [ -d "$collection_dir/tests/output" ]; then
    rm -rf "$root/.build/$1-output"
    cp -r "$collection_dir/tests/output" "$root/.build/$1-output"
  fi
}
