#!/usr/bin/env bash
# Builds the release archive for this machine's target (kubectl-apidiag, which runs
# every check in-process, the kubectl completion helper and the licence, flat, as
# krew/apidiag.yaml.tmpl expects) and renders the krew manifest with its checksum
# into dist/. The per-check binaries are for direct installs, not for krew.
#   krew/package.sh            # uses the workspace version
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked -p kubectl-apidiag
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp target/release/kubectl-apidiag completions/kubectl_complete-apidiag LICENSE "$stage/"
mkdir -p dist
archive="dist/apidiag-v$version-$target.tar.gz"
tar -C "$stage" -czf "$archive" .
sum=$(sha256sum "$archive" | cut -d' ' -f1)
key=SHA256_LINUX_AMD64
[[ "$target" == aarch64-* ]] && key=SHA256_LINUX_ARM64
sed -e "s/{{VERSION}}/$version/g" -e "s/{{$key}}/$sum/" krew/apidiag.yaml.tmpl > dist/apidiag.yaml
echo "$archive"
echo "dist/apidiag.yaml ($key filled; fill the other platform from its own build)"
