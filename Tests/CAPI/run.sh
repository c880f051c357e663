#!/usr/bin/env bash
# The C API's checks (make test runs them after swift test): install the library into a temporary prefix,
# build the example host and the C test program against the INSTALLED library through pkg-config only, with
# nothing from the Swift toolchain on the library path, and check what a C host sees:
#   - the installed files: SONAME, rpath $ORIGIN, every Swift library resolved inside the prefix, no ICU
#   - the example host plays the lobby IVR, the caller presses 1, and spandsp decodes 9876# from its WAV
#   - bytes identical to `callseq render` (PCM16, mu-law, A-law; several DTMF modes, rates and frame sizes)
#   - bad input, events, threads, IVR calls (Tests/CAPI/capi_test.c)
#   - all of it under valgrind memcheck: no invalid access, "definitely lost: 0 bytes" (the Swift runtime's
#     metadata caches, reachable through interior pointers, show as "possibly lost" and are allowed)
#   - make uninstall removes exactly what make install put there
# Prints one line per check and "N passed, M failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
expect() { if eval "$2"; then ok "$1"; else not_ok "$1${3:+: $3}"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

prefix="$work/prefix"
if ! make -s install PREFIX="$prefix" > "$work/install.log" 2>&1; then
    cat "$work/install.log"
    not_ok "make install PREFIX=$prefix"
    finish
fi
ok "make install PREFIX=DIR"

# Nothing from the toolchain: no LD_LIBRARY_PATH, pkg-config sees only the prefix.
unset LD_LIBRARY_PATH
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
lib="$prefix/lib/libcallsequence.so.0"

expect "header, library, link and pkg-config file installed" \
    '[ -f "$prefix/include/callsequence.h" ] && [ -f "$lib" ] && [ "$(readlink "$prefix/lib/libcallsequence.so")" = libcallsequence.so.0 ] && [ "$(pkg-config --modversion callsequence)" = 0.2.0 ]'
expect "SONAME libcallsequence.so.0, RUNPATH \$ORIGIN" \
    'readelf -d "$lib" | grep -q "Library soname: \[libcallsequence.so.0\]" && readelf -d "$lib" | grep -q "Library runpath: \[\$ORIGIN\]"'
ldd "$lib" > "$work/ldd.txt"
expect "ldd: every Swift library resolves inside the prefix" \
    '! grep -E "libswift|libdispatch|libBlocksRuntime" "$work/ldd.txt" | grep -v "=> $prefix/lib/" | grep -q .' \
    "$(grep -E 'libswift|not found' "$work/ldd.txt" | grep -v "$prefix/lib/" | tr '\n' ' ')"
expect "ldd: nothing from the toolchain ($toolchain), nothing missing" \
    '! grep -q -e "$toolchain" -e "not found" "$work/ldd.txt"'
expect "no ICU, no Foundation (lib_FoundationICU, libFoundation*)" \
    '! grep -q -e FoundationICU -e libFoundation "$work/ldd.txt"'
expect "only cs_ functions among the exported C symbols" \
    '! nm -D --defined-only "$lib" | awk "\$2 == \"T\" && \$3 !~ /^[\$_]/ { print \$3 }" | grep -v "^cs_" | grep -q .'

# The example host, built from a copy of Examples/c-host with its own Makefile.
mkdir -p "$work/host"
cp Examples/c-host/host.c Examples/c-host/Makefile "$work/host/"
if make -s -C "$work/host" host > "$work/host-build.log" 2>&1; then
    ok "Examples/c-host builds with pkg-config --cflags --libs callsequence"
else
    cat "$work/host-build.log"
    not_ok "Examples/c-host builds"
fi
expect "the host's ldd: libcallsequence and the Swift runtime from the prefix" \
    'ldd "$work/host/host" | grep -q "libcallsequence.so.0 => $lib" && ! ldd "$work/host/host" | grep -q -e "$toolchain" -e "not found"'
(cd "$work/host" && ./host "$repo/Examples/account.json" "$work/host.wav" > "$work/host.txt" 2> "$work/host.err")
expect "the host plays the lobby: menu, digit 1, the front door sequence, the SMS, the end" \
    'grep -q "IVR 0 plays its menu (play 1)" "$work/host.txt" && grep -q "2.000 s: caller pressed 1" "$work/host.txt" && grep -q "SMS from 5145550100 to 5145550199: \"Front door opened\"" "$work/host.txt" && grep -q "call over: the sequence finished" "$work/host.txt"' \
    "$(cat "$work/host.txt" "$work/host.err")"

cc -O1 -g -Wall -Werror -o "$work/spandsp_decode" Tests/CAPI/spandsp_decode.c $(pkg-config --cflags --libs sndfile spandsp)
digits=$("$work/spandsp_decode" "$work/host.wav")
expect "spandsp's dtmf_rx decodes the door code 9876# from the host's WAV" '[ "$digits" = "9876#" ]' "got \"$digits\""

# The header in a C++ host (FreeSWITCH and Asterisk modules are C; many media servers are C++).
printf '#include <callsequence.h>\nint main() { cs_format f = { 8000, CS_ULAW, CS_DTMF_BOTH }; (void)f; return cs_version() == nullptr; }\n' \
    > "$work/host.cpp"
expect "callsequence.h compiles and links in C++ (g++ -Wall -Wextra -Werror)" \
    'g++ -Wall -Wextra -Werror -o "$work/cpp" "$work/host.cpp" $(pkg-config --cflags --libs callsequence) && "$work/cpp"'

# The C test program.
if cc -O1 -g -Wall -Wextra -Werror -pthread -o "$work/capi_test" Tests/CAPI/capi_test.c \
    $(pkg-config --cflags --libs callsequence) 2> "$work/capi-build.log"; then
    ok "Tests/CAPI/capi_test.c builds against the installed header and library"
else
    cat "$work/capi-build.log"
    not_ok "Tests/CAPI/capi_test.c builds"
    finish
fi
"$work/capi_test" checks "$repo" > "$work/checks.txt"
grep -E "^(not )?ok - " "$work/checks.txt"
passed=$((passed + $(grep -c "^ok - " "$work/checks.txt")))
failed=$((failed + $(grep -c "^not ok - " "$work/checks.txt")))
expect "capi_test ran to its end" 'grep -q "^capi_test: .* passed, 0 failed" "$work/checks.txt"'

# Bytes identical to the Swift player through `callseq render` (the command line, 20 ms frames).
callseq="$(swift build --show-bin-path)/callseq"
[ -x "$callseq" ] || swift build --product callseq > /dev/null
for spec in "8000 ulaw inband 160 ul" "8000 alaw both 7 al" "8000 pcm16 inband 160 raw" "16000 pcm16 rfc4733 333 raw" \
    "48000 ulaw both 960 ul"; do
    read -r rate encoding mode frame ext <<<"$spec"
    "$callseq" render Examples/front-door.json -o "$work/swift.$ext" --rate "$rate" --encoding "$encoding" \
        --dtmf-mode "$mode" > /dev/null
    "$work/capi_test" render Examples/front-door.json Examples/recordings "$rate" "$encoding" "$mode" "$frame" "$work/c.$ext"
    expect "cs_player_render = callseq render, $rate Hz $encoding $mode (C frames of $frame)" \
        'cmp -s "$work/swift.$ext" "$work/c.$ext" && [ -s "$work/c.$ext" ]' \
        "$(cmp "$work/swift.$ext" "$work/c.$ext" 2>&1; ls -l "$work/swift.$ext" "$work/c.$ext" | awk '{print $5}' | tr '\n' ' ')"
done

# Memcheck: the whole test program and the host.
if command -v valgrind > /dev/null; then
    for run in "capi_test checks" "host"; do
        if [ "$run" = host ]; then
            cmd=("$work/host/host" "$repo/Examples/account.json" "$work/host2.wav")
        else
            cmd=("$work/capi_test" checks "$repo")
        fi
        valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 --log-file="$work/valgrind.txt" \
            "${cmd[@]}" > /dev/null 2>&1
        status=$?
        errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$work/valgrind.txt" | tail -1)
        lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$work/valgrind.txt" | tail -1)
        [ -z "$lost" ] && grep -q "All heap blocks were freed" "$work/valgrind.txt" && lost=0
        expect "valgrind memcheck, $run: exit $status, no invalid access (0 errors), definitely lost: 0 bytes" \
            '[ "$status" = 0 ] && [ "$errors" = 0 ] && [ "$lost" = 0 ]' \
            "errors $errors, definitely lost $lost; $(grep -m3 -E "Invalid|uninitialised|definitely" "$work/valgrind.txt" | tr '\n' ' ')"
    done
else
    not_ok "valgrind is not installed (make deps installs it)"
fi

# Uninstall removes exactly what install put there.
find "$prefix" > "$work/before.txt"
make -s uninstall PREFIX="$prefix" > /dev/null 2>&1
expect "make uninstall PREFIX=DIR removes every installed file and directory" '[ -z "$(ls -A "$prefix")" ]' \
    "$(find "$prefix" | tr '\n' ' ')"

finish
