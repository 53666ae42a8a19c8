#!/usr/bin/env bash
# Builds the lab's Kubernetes control plane from source, once per machine, into a cache outside the clone:
#   kube-apiserver, kube-controller-manager, kube-scheduler  k8s.io/kubernetes (pinned in hacking/controlplane/go.mod)
#   etcd                                                    go.etcd.io/etcd/server, the version Kubernetes pins
#   kwok                                                    sigs.k8s.io/kwok: fake Nodes and Pods, port-forward, exec
# The cache is keyed by the versions, the module files, the Go version and `recipe` (bump it when this script
# changes what it builds), so a change of any rebuilds; re-runs, later sessions on the same machine and CI reuse
# it. Prints the bin folder on its last line; kwok's stage and CRD files are in ../share/kwok beside it.
#   KFUSE_LAB_CACHE   cache root (default: ${XDG_CACHE_HOME:-~/.cache}/kfuse-failover)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module="$root/hacking/controlplane"

kube_version=v1.34.4
kwok_version=v0.8.0
recipe=2
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok)
# Measured on a 2-core machine with cold Go module and build caches (docs/testing.md has the figures); shown before a first build.
cold_estimate="6 to 9 minutes"

if ! command -v go >/dev/null 2>&1; then
  echo "controlplane: Go is needed to build the lab's Kubernetes from source (1.24 or newer)" >&2
  exit 1
fi

cache_root=${KFUSE_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kfuse-failover}
key=$( { echo "$kube_version $kwok_version $(go env GOVERSION) recipe $recipe"; cat "$module/go.mod" "$module/go.sum" "$module"/cmd/*/*.go; } \
       | sha256sum | cut -c1-16)
dest="$cache_root/controlplane/$kube_version-$key"

have_all() {
  local b
  for b in "${binaries[@]}"; do [ -x "$dest/bin/$b" ] || return 1; done
  [ -f "$dest/share/kwok/stages/pod-ready.yaml" ] && [ -f "$dest/share/kwok/crds/kwok.x-k8s.io_clusterportforwards.yaml" ]
}

if have_all; then
  echo "controlplane: cached ($dest)" >&2
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$cache_root/controlplane"
exec 9>"$cache_root/controlplane/.build.lock"
if ! flock -n 9; then
  echo "controlplane: another build holds $cache_root/controlplane/.build.lock; waiting for it" >&2
  flock 9
fi
if have_all; then
  echo "controlplane: cached ($dest), built by the run that held the lock" >&2
  echo "$dest/bin"
  exit 0
fi

echo "controlplane: building Kubernetes $kube_version, etcd and kwok $kwok_version from source into $dest" >&2
echo "controlplane: once per machine; a first build with cold caches takes $cold_estimate on 2 cores, later runs reuse it" >&2
work=$(mktemp -d "$cache_root/controlplane/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"

export GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0
started=$SECONDS

# Runs one build in the background and reports every 30 s how many packages it has compiled, so a long first
# build shows it is moving. Each binary's time is printed when it is done.
run_build() {
  local name=$1; shift
  local log="$work/$name.log" t0=$SECONDS
  ( "$@" ) >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && echo "controlplane: $name: $((SECONDS - t0)) s, $(grep -vc '^go: ' "$log" || true) packages compiled" >&2
  done
  if ! wait "$pid"; then
    echo "controlplane: building $name failed after $((SECONDS - t0)) s; last lines:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  echo "controlplane: $name built in $((SECONDS - t0)) s" >&2
}

# Version stamps the way Kubernetes' own build sets them: helm and kubectl read the server's /version.
minor=${kube_version#v1.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

cd "$module"
echo "controlplane: downloading modules" >&2
t0=$SECONDS
go mod download
echo "controlplane: modules ready in $((SECONDS - t0)) s" >&2
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  run_build "$b" go build -v -ldflags "$ldflags" -o "$work/bin/$b" "k8s.io/kubernetes/cmd/$b"
done
run_build etcd go build -v -ldflags "-s -w" -o "$work/bin/etcd" ./cmd/etcd
run_build kwok env GOBIN="$work/bin" go install -v -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"

# kwok's own stage definitions (node ready + lease heartbeat, pod ready/complete/delete) and the CRDs of its
# port-forward and exec configuration, from the same module version as the binary.
kwok_src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$kwok_version/kustomize"
mkdir -p "$work/share/kwok/stages" "$work/share/kwok/crds"
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
             pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  cp "$kwok_src/stage/$stage.yaml" "$work/share/kwok/stages/"
done
for kind in execs clusterexecs portforwards clusterportforwards; do
  cp "$kwok_src/crd/bases/kwok.x-k8s.io_$kind.yaml" "$work/share/kwok/crds/"
done
chmod -R u+w "$work/share"

"$work/bin/kube-apiserver" --version >&2
mkdir -p "$dest"
rm -rf "${dest:?}/bin" "${dest:?}/share"
mv "$work/bin" "$dest/bin"
mv "$work/share" "$dest/share"
echo "controlplane: all built in $((SECONDS - started)) s" >&2
echo "$dest/bin"
