#!/usr/bin/env bash
# Builds krew (kubectl-krew) from the sigs.k8s.io/krew release module pinned in
# go.mod, with this machine's Go toolchain, into
#   ${APIDIAG_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apidiag-lab}/krew-<version>/
# and prints that directory. It is the lab's way (crates/apidiag-lab/go/build.sh):
# source from the module proxy, checked against the committed go.sum, built once
# per pinned version; a complete cache is reused, even on a machine without Go.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
# go.sum is committed, so the checksum database is not needed (and may be unreachable).
export GOSUMDB=off

# From go.mod's require line (not `go list`), so a complete cache needs no Go.
version=$(awk '$1 == "sigs.k8s.io/krew" && $2 ~ /^v/ { print $2; exit }' go.mod)
if [[ -z "$version" ]]; then
	echo "apidiag krew: cannot read the sigs.k8s.io/krew version from $here/go.mod" >&2
	exit 1
fi
cache_root=${APIDIAG_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apidiag-lab}
out="$cache_root/krew-$version"
stamp="$out/.complete"
want="$version $(sha256sum go.sum | cut -c1-16)"

complete() { [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; }
if complete; then
	echo "$out"
	exit 0
fi

if ! command -v go >/dev/null; then
	echo "apidiag krew: Go toolchain not found: install Go >= 1.26 (https://go.dev/dl)" >&2
	exit 127
fi

# Two test binaries building at once would share $out.tmp: the second waits for
# the first and then finds the cache complete. A lock of its own, not the lab's:
# a one-minute krew build must not wait out a twelve-minute kube-apiserver build.
mkdir -p "$cache_root"
if command -v flock >/dev/null; then
	exec 9>"$cache_root/.krew-build.lock"
	flock 9
	if complete; then
		echo "$out"
		exit 0
	fi
fi

# krew reads its version from these; `kubectl krew version` then says v0.4.3, and
# a tagged build is not a "development build" (see the test's KREW_NO_UPGRADE_CHECK).
pkg=sigs.k8s.io/krew/internal/version
ldflags="-s -w -X $pkg.gitTag=$version -X $pkg.gitCommit=$version"

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
start=$(date +%s)
echo "apidiag krew: building kubectl-krew $version with $(go env GOVERSION)" >&2
go build -trimpath -ldflags "$ldflags" -o "$out.tmp/kubectl-krew" sigs.k8s.io/krew/cmd/krew
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$want" > "$stamp"
echo "apidiag krew: built in $(( $(date +%s) - start ))s" >&2
echo "$out"
