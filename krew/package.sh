#!/usr/bin/env bash
# Builds the release archive for this machine's target and renders the krew
# manifest with its checksum:
#   krew/package.sh [--out DIR] [--target-dir DIR] [--binary FILE]
#     --out DIR         where the archive and apidiag.yaml go (default: dist/, or $APIDIAG_DIST)
#     --target-dir DIR  cargo's target dir (default: $CARGO_TARGET_DIR, else target/)
#     --binary FILE     package this kubectl-apidiag instead of building release
#                       (the tests package the binary cargo built for them from
#                       the same source: a release build would cost minutes)
# It prints the archive's path, then the manifest's.
#
# The archive is flat and holds exactly the files the manifest's `files` name
# (kubectl-apidiag, which runs every check in-process, the kubectl completion
# helper and the licence): the list is read from krew/apidiag.yaml.tmpl, so the
# two cannot drift. Without --binary it builds release from the current source,
# so nothing packaged is older than the code. A platform whose checksum is not known here
# (the other architecture, built on its own machine; pass it as
# APIDIAG_SHA256_LINUX_ARM64 / APIDIAG_SHA256_LINUX_AMD64) is left out of the
# manifest, because krew rejects a manifest with an unfilled sha256.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

out=${APIDIAG_DIST:-$root/dist}
target_dir=${CARGO_TARGET_DIR:-$root/target}
binary=
while (( $# )); do
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	--target-dir) target_dir=$2; shift 2 ;;
	--target-dir=*) target_dir=${1#--target-dir=}; shift ;;
	--binary) binary=$2; shift 2 ;;
	--binary=*) binary=${1#--binary=}; shift ;;
	*) echo "krew/package.sh: unknown argument \`$1\`" >&2; exit 64 ;;
	esac
done
# Paths given are the caller's, relative to where it runs; then work from the root.
out=$(realpath -m "$out")
target_dir=$(realpath -m "$target_dir")
[[ -z "$binary" ]] || binary=$(realpath -m "$binary")
cd "$root"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=$(rustc -vV | sed -n 's/^host: //p')
case $target in
x86_64-unknown-linux-gnu) key=SHA256_LINUX_AMD64 ;;
aarch64-unknown-linux-gnu) key=SHA256_LINUX_ARM64 ;;
*) echo "krew/package.sh: the manifest has no platform for $target" >&2; exit 1 ;;
esac

if [[ -z "$binary" ]]; then
	cargo build --release --locked -p kubectl-apidiag --target-dir "$target_dir"
	binary=$target_dir/release/kubectl-apidiag
elif [[ ! -x "$binary" ]]; then
	echo "krew/package.sh: --binary $binary is not an executable file" >&2
	exit 64
fi

# Where each file the manifest names comes from.
source_of() {
	case $1 in
	kubectl-apidiag) echo "$binary" ;;
	kubectl_complete-apidiag) echo "$root/completions/kubectl_complete-apidiag" ;;
	LICENSE) echo "$root/LICENSE" ;;
	*) return 1 ;;
	esac
}
mapfile -t files < <(sed -n 's/^ *- from: "\(.*\)"$/\1/p' krew/apidiag.yaml.tmpl | sort -u)
if (( ${#files[@]} == 0 )); then
	echo "krew/package.sh: krew/apidiag.yaml.tmpl names no files" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for file in "${files[@]}"; do
	if ! src=$(source_of "$file"); then
		echo "krew/package.sh: the manifest names \`$file\`, which this script does not know how to package" >&2
		exit 1
	fi
	cp "$src" "$stage/$file"
done

mkdir -p "$out"
archive="$out/apidiag-v$version-$target.tar.gz"
# Named members (no `./`), root-owned, sorted: the same source gives the same listing.
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "${files[@]}" | gzip -n > "$archive"
sum=$(sha256sum "$archive" | cut -d' ' -f1)

# Fill this platform's checksum and any given on the environment, then drop each
# platform (a `  - selector:` item of the list that ends the file) still unfilled.
fill=(-e "s/{{VERSION}}/$version/g" -e "s/{{$key}}/$sum/")
for other in SHA256_LINUX_AMD64 SHA256_LINUX_ARM64; do
	given=APIDIAG_$other
	if [[ $other != "$key" && -n "${!given:-}" ]]; then
		fill+=(-e "s/{{$other}}/${!given}/")
	fi
done
sed "${fill[@]}" krew/apidiag.yaml.tmpl | awk '
	function flush() { if (item != "" && item !~ /\{\{/) printf "%s", item; item = "" }
	/^  - selector:/ { flush(); in_item = 1 }
	in_item { item = item $0 "\n"; next }
	{ print }
	END { flush() }
' > "$out/apidiag.yaml"
echo "$archive"
echo "$out/apidiag.yaml"
