#!/usr/bin/env bash
# Builds the lab's kube-apiserver, kube-controller-manager and etcd from the
# upstream modules pinned in go.mod (or, with APIDIAG_LAB_K8S=1.NN, in
# k8s-1.NN.mod), with this machine's Go toolchain, into
#   ${APIDIAG_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apidiag-lab}/<k8s version>/
# and prints that directory. A complete cache is reused: the build runs once per
# pinned version. Nothing prebuilt is downloaded; the Go module proxy provides source.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
# go.sum is committed, so the checksum database is not needed (and may be unreachable).
export GOSUMDB=off

# The versions come straight from the modfile's require lines (not `go list`),
# so a complete cache is usable on a machine without Go.
require_version() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$2"; }

# Which release: go.mod pins the newest minor (the default); k8s-1.NN.mod pin the
# older ones (pin.sh writes them). APIDIAG_LAB_K8S=1.NN picks one.
modfile=go.mod
wanted=${APIDIAG_LAB_K8S:-}
if [[ -n "$wanted" ]]; then
	wanted=${wanted#v}
	newest=$(require_version k8s.io/kubernetes go.mod)
	if [[ "$newest" != "v$wanted".* && "$newest" != "v$wanted" ]]; then
		modfile=k8s-${wanted%.*}.mod
		[[ "$wanted" == *.*.* ]] || modfile=k8s-$wanted.mod
		if [[ ! -f "$modfile" ]]; then
			known=$(ls k8s-*.mod 2>/dev/null | sed 's/^k8s-\(.*\)\.mod$/\1/' | tr '\n' ' ')
			echo "apidiag-lab: APIDIAG_LAB_K8S=$APIDIAG_LAB_K8S: no such pinned minor (pinned: ${newest#v} (newest) ${known})" >&2
			exit 2
		fi
	fi
fi
sumfile=${modfile%.mod}.sum
version=$(require_version k8s.io/kubernetes "$modfile")
etcd_version=$(require_version go.etcd.io/etcd/server/v3 "$modfile")
if [[ -z "$version" || -z "$etcd_version" ]]; then
	echo "apidiag-lab: cannot read the k8s.io/kubernetes and etcd versions from $here/$modfile" >&2
	exit 1
fi
if [[ -n "$wanted" && "$version" != "v$wanted".* && "$version" != "v$wanted" ]]; then
	echo "apidiag-lab: APIDIAG_LAB_K8S=$APIDIAG_LAB_K8S, but $modfile pins $version" >&2
	exit 2
fi
cache_root=${APIDIAG_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apidiag-lab}
out="$cache_root/$version"
stamp="$out/.complete"
want="$version $etcd_version $(sha256sum "$sumfile" | cut -c1-16)"

complete() { [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; }
if complete; then
	echo "$out"
	exit 0
fi

if ! command -v go >/dev/null; then
	echo "apidiag-lab: Go toolchain not found: install Go >= 1.26 (https://go.dev/dl)" >&2
	exit 127
fi

# Two builds at once (a test run and `apidiag-lab up`) would share $out.tmp: the
# second waits for the first and then finds the cache complete.
mkdir -p "$cache_root"
if command -v flock >/dev/null; then
	exec 9>"$cache_root/.build.lock"
	flock 9
	if complete; then
		echo "$out"
		exit 0
	fi
fi

minor=${version#v1.}
minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w
 -X $pkg.gitVersion=$version
 -X $pkg.gitMajor=1
 -X $pkg.gitMinor=$minor
 -X $pkg.gitTreeState=clean
 -X $pkg.buildDate=1970-01-01T00:00:00Z"

mkdir -p "$out.tmp"
start=$(date +%s)
for bin in etcd kube-apiserver kube-controller-manager; do
	echo "apidiag-lab: building $bin ($version, etcd $etcd_version) with $(go env GOVERSION)" >&2
	go build -modfile="$modfile" -trimpath -ldflags "$ldflags" -o "$out.tmp/$bin" "./cmd/$bin"
done
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$want" > "$stamp"
echo "apidiag-lab: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
