#!/usr/bin/env bash
# make install / make uninstall of the C library (see the README, "Embedding in C").
#
#   Packaging/install.sh install BIN_DIR PREFIX   BIN_DIR: where `swift build -c release` put libcallsequence.so
#   Packaging/install.sh uninstall PREFIX
#
# install puts in PREFIX:
#   include/callsequence.h
#   lib/libcallsequence.so.0 (SONAME libcallsequence.so.0, rpath $ORIGIN) and the libcallsequence.so link
#   lib/pkgconfig/callsequence.pc
#   lib/libswift*.so ... : the Swift runtime libraries the library loads, copied from the toolchain (rpath
#                          $ORIGIN), so that hosts run with nothing from the toolchain's folder
#   share/callsequence/manifest: every file and every directory install created, for uninstall
# uninstall removes exactly those (directories only if install created them and they are empty).
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
case "$action" in
install)
    [ $# -eq 3 ] || { echo "usage: $0 install BIN_DIR PREFIX" >&2; exit 64; }
    bin=$2
    prefix=$3
    ;;
uninstall)
    [ $# -eq 2 ] || { echo "usage: $0 uninstall PREFIX" >&2; exit 64; }
    prefix=$2
    ;;
*)
    echo "usage: $0 install BIN_DIR PREFIX | uninstall PREFIX" >&2
    exit 64
    ;;
esac
[ -n "$prefix" ] || { echo "$0: PREFIX is empty" >&2; exit 64; }
prefix=$(realpath -m "$prefix")
manifest="$prefix/share/callsequence/manifest"

if [ "$action" = uninstall ]; then
    [ -f "$manifest" ] || { echo "$0: nothing to uninstall: no $manifest" >&2; exit 1; }
    entries=$(cat "$manifest")
    # Files first (the manifest last), then the directories install created, deepest first, when empty.
    grep '^file ' <<<"$entries" | cut -d' ' -f2- | while IFS= read -r f; do rm -f "$prefix/$f"; done
    rm -f "$manifest"
    grep '^dir ' <<<"$entries" | cut -d' ' -f2- | sort -r | while IFS= read -r d; do
        rmdir "$prefix/$d" 2>/dev/null || true
    done
    echo "uninstalled libcallsequence from $prefix"
    exit 0
fi

command -v patchelf >/dev/null || { echo "$0: needs patchelf (apt-get install patchelf)" >&2; exit 1; }
library="$bin/libcallsequence.so"
[ -f "$library" ] || { echo "$0: no $library (swift build -c release --product callsequence)" >&2; exit 1; }
version=$(sed -n 's/^#define CS_VERSION_STRING "\(.*\)"$/\1/p' Sources/CallSequenceC/include/callsequence.h)
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")

created=()
for d in "" include lib lib/pkgconfig share share/callsequence; do
    if [ ! -d "$prefix/$d" ]; then
        mkdir -p "$prefix/$d"
        [ -n "$d" ] && created+=("$d")
    fi
done
files=()

install -m 644 Sources/CallSequenceC/include/callsequence.h "$prefix/include/callsequence.h"
files+=(include/callsequence.h)

install -m 755 "$library" "$prefix/lib/libcallsequence.so.0"
patchelf --set-rpath '$ORIGIN' "$prefix/lib/libcallsequence.so.0"
ln -sfn libcallsequence.so.0 "$prefix/lib/libcallsequence.so"
files+=(lib/libcallsequence.so.0 lib/libcallsequence.so)

# The Swift runtime: every library ldd resolves inside the toolchain (transitively), copied beside it.
runtime=$(ldd "$library" | awk -v root="$toolchain/" 'index($3, root) == 1 { print $3 }' | sort -u)
for path in $runtime; do
    name=$(basename "$path")
    case "$name" in
    *FoundationICU*|libFoundation*) echo "$0: $library must not need $name" >&2; exit 1 ;;
    esac
    install -m 644 "$path" "$prefix/lib/$name"
    patchelf --set-rpath '$ORIGIN' "$prefix/lib/$name"
    files+=("lib/$name")
done

sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" Packaging/callsequence.pc.in > "$prefix/lib/pkgconfig/callsequence.pc"
files+=(lib/pkgconfig/callsequence.pc)

{
    for f in "${files[@]}"; do echo "file $f"; done
    echo "file share/callsequence/manifest"
    for d in "${created[@]}"; do echo "dir $d"; done
} > "$manifest"

echo "installed libcallsequence $version in $prefix:"
for f in "${files[@]}"; do echo "  $f"; done
