#!/usr/bin/env bash
# make install / make uninstall: the C library (see the README, "Embedding in C") and the callseq command.
#
#   Scripts/install.sh install BIN_DIR PREFIX [MAN_PAGE]
#       BIN_DIR: where `swift build -c release` put libcallsequence.so and callseq
#       MAN_PAGE: callseq.1 from swift-argument-parser's generate-manual plugin (`make install` makes it)
#   Scripts/install.sh uninstall PREFIX
#
# install puts in PREFIX:
#   include/callsequence.h
#   lib/libcallsequence.so.0 (SONAME libcallsequence.so.0, rpath $ORIGIN) and the libcallsequence.so link
#   lib/pkgconfig/callsequence.pc
#   bin/callseq (rpath $ORIGIN/../lib; the default prompt is compiled in, so it runs from any directory)
#   lib/libswift*.so ... : the Swift runtime libraries the library and callseq load (Foundation for callseq
#                          only), copied from the toolchain (rpath $ORIGIN), so that nothing comes from the
#                          toolchain's folder
#   share/man/man1/callseq.1
#   share/bash-completion/completions/callseq, share/zsh/site-functions/_callseq,
#   share/fish/vendor_completions.d/callseq.fish: from the installed `callseq --generate-completion-script`
#   share/callsequence/manifest: every file and every directory install created, for uninstall
# uninstall removes exactly those (directories only if install created them and they are empty).
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
case "$action" in
install)
    [ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 install BIN_DIR PREFIX [MAN_PAGE]" >&2; exit 64; }
    bin=$2
    prefix=$3
    man_page=${4:-}
    ;;
uninstall)
    [ $# -eq 2 ] || { echo "usage: $0 uninstall PREFIX" >&2; exit 64; }
    prefix=$2
    ;;
*)
    echo "usage: $0 install BIN_DIR PREFIX [MAN_PAGE] | uninstall PREFIX" >&2
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
    echo "uninstalled libcallsequence and callseq from $prefix"
    exit 0
fi

command -v patchelf >/dev/null || { echo "$0: needs patchelf (apt-get install patchelf)" >&2; exit 1; }
library="$bin/libcallsequence.so"
[ -f "$library" ] || { echo "$0: no $library (swift build -c release --product callsequence)" >&2; exit 1; }
version=$(sed -n 's/^#define CS_VERSION_STRING "\(.*\)"$/\1/p' Sources/CallSequenceC/include/callsequence.h)
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")

tool="$bin/callseq"
[ -x "$tool" ] || { echo "$0: no $tool (swift build -c release --product callseq)" >&2; exit 1; }
[ -z "$man_page" ] || [ -s "$man_page" ] || { echo "$0: no man page $man_page" >&2; exit 1; }

created=()
# A second install over the first keeps the directories the first one created in the manifest.
if [ -f "$manifest" ]; then
    while IFS= read -r d; do created+=("$d"); done < <(sed -n 's/^dir //p' "$manifest")
fi
directories=(include lib lib/pkgconfig share share/callsequence bin share/bash-completion
    share/bash-completion/completions share/zsh share/zsh/site-functions share/fish share/fish/vendor_completions.d)
[ -z "$man_page" ] || directories+=(share/man share/man/man1)
for d in "" "${directories[@]}"; do
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
    case "$(basename "$path")" in
    *FoundationICU*|libFoundation*) echo "$0: $library must not need $(basename "$path")" >&2; exit 1 ;;
    esac
done
# callseq's: the same, and Foundation (the command line uses it; the library does not).
runtime=$( (echo "$runtime"; ldd "$tool" | awk -v root="$toolchain/" 'index($3, root) == 1 { print $3 }') | sort -u)
for path in $runtime; do
    name=$(basename "$path")
    install -m 644 "$path" "$prefix/lib/$name"
    patchelf --set-rpath '$ORIGIN' "$prefix/lib/$name"
    files+=("lib/$name")
done

install -m 755 "$tool" "$prefix/bin/callseq"
patchelf --set-rpath '$ORIGIN/../lib' "$prefix/bin/callseq"
files+=(bin/callseq)
# The installed binary runs from the prefix (nothing from the toolchain on its library path) and tells the
# version the library has: one source of truth (CallSequenceEngine's PackageVersion, the header's CS_VERSION_STRING).
installed_version=$(env -u LD_LIBRARY_PATH "$prefix/bin/callseq" --version) || {
    echo "$0: the installed $prefix/bin/callseq does not run" >&2; exit 1; }
[ "$installed_version" = "$version" ] || {
    echo "$0: callseq --version says $installed_version, callsequence.h says $version" >&2; exit 1; }

if [ -n "$man_page" ]; then
    install -m 644 "$man_page" "$prefix/share/man/man1/callseq.1"
    files+=(share/man/man1/callseq.1)
fi
for shell in bash zsh fish; do
    case $shell in
    bash) file=share/bash-completion/completions/callseq ;;
    zsh) file=share/zsh/site-functions/_callseq ;;
    fish) file=share/fish/vendor_completions.d/callseq.fish ;;
    esac
    env -u LD_LIBRARY_PATH "$prefix/bin/callseq" --generate-completion-script "$shell" > "$prefix/$file.tmp"
    mv "$prefix/$file.tmp" "$prefix/$file"
    chmod 644 "$prefix/$file"
    files+=("$file")
done

sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" Packaging/callsequence.pc.in > "$prefix/lib/pkgconfig/callsequence.pc"
files+=(lib/pkgconfig/callsequence.pc)

{
    for f in "${files[@]}"; do echo "file $f"; done
    echo "file share/callsequence/manifest"
    for d in "${created[@]}"; do echo "dir $d"; done | sort -u
} > "$manifest"

echo "installed libcallsequence and callseq $version in $prefix:"
for f in "${files[@]}"; do echo "  $f"; done
