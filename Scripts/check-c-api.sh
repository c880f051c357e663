#!/usr/bin/env bash
# The C API's and the installed command line's checks (make test runs them after swift test): install the
# library and callseq (man page, completions) into a temporary prefix,
# build the example host and the C test program against the INSTALLED library through pkg-config only, with
# nothing from the Swift toolchain on the library path, and check what a C host sees:
#   - the installed files: SONAME, rpath $ORIGIN, every Swift library resolved inside the prefix, no ICU
#   - the example host plays the lobby IVR, the caller presses 1, and spandsp decodes 9876# from its WAV
#   - bytes identical to `callseq render` (PCM16, mu-law, A-law; several DTMF modes, rates and frame sizes)
#   - bad input, events, threads, IVR calls (Tests/CAPI/capi_test.c)
#   - all of it under valgrind memcheck: no invalid access, "definitely lost: 0 bytes" (the Swift runtime's
#     metadata caches, reachable through interior pointers, show as "possibly lost" and are allowed)
#   - the installed callseq: its Swift libraries from the prefix, `render` with the "default" recording from
#     another directory, the man page and the bash/zsh/fish completions, --version = cs_version()
#   - make uninstall removes exactly what make install put there
# Prints one line per check and "N passed, M failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
expect() { if eval "$2"; then ok "$1"; else not_ok "$1${3:+: $3}"; fi; }
# A pattern in a pipeline's output. `grep -c` reads to the end: `grep -q` may exit at the first match while the
# producer still writes, and with pipefail the producer's SIGPIPE fails the check (seen with ldd in CI).
matches() { grep -c "$@" > /dev/null; }
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
    'readelf -d "$lib" | matches "Library soname: \[libcallsequence.so.0\]" && readelf -d "$lib" | matches "Library runpath: \[\$ORIGIN\]"'
ldd "$lib" > "$work/ldd.txt"
expect "ldd: every Swift library resolves inside the prefix" \
    '! grep -E "libswift|libdispatch|libBlocksRuntime" "$work/ldd.txt" | grep -v "=> $prefix/lib/" | matches .' \
    "$(grep -E 'libswift|not found' "$work/ldd.txt" | grep -v "$prefix/lib/" | tr '\n' ' ')"
expect "ldd: nothing from the toolchain ($toolchain), nothing missing" \
    '! grep -q -e "$toolchain" -e "not found" "$work/ldd.txt"'
expect "no ICU, no Foundation (lib_FoundationICU, libFoundation*)" \
    '! grep -q -e FoundationICU -e libFoundation "$work/ldd.txt"'
expect "only cs_ functions among the exported C symbols" \
    '! nm -D --defined-only "$lib" | awk "\$2 == \"T\" && \$3 !~ /^[\$_]/ { print \$3 }" | grep -v "^cs_" | matches .'

# The command line: bin/callseq runs from the prefix, from any working directory, with nothing from the toolchain.
tool="$prefix/bin/callseq"
ldd "$tool" > "$work/ldd-callseq.txt"
inside="$prefix/(bin/\.\./)?lib/"   # how ldd writes a library found through $ORIGIN/../lib
expect "bin/callseq installed, RUNPATH \$ORIGIN/../lib" \
    '[ -x "$tool" ] && readelf -d "$tool" | matches "Library runpath: \[\$ORIGIN/../lib\]"'
expect "ldd bin/callseq: every Swift library (Foundation too) resolves inside the prefix, nothing missing" \
    'grep -Eq "libswiftCore.so => $inside" "$work/ldd-callseq.txt" && grep -Eq "libFoundation.so => $inside" "$work/ldd-callseq.txt" && ! grep -E "libswift|libdispatch|libBlocksRuntime|Foundation" "$work/ldd-callseq.txt" | grep -Ev "=> $inside" | matches . && ! grep -q -e "$toolchain" -e "not found" "$work/ldd-callseq.txt"' \
    "$(grep -E 'libswift|Foundation|not found' "$work/ldd-callseq.txt" | grep -Ev "=> $inside" | tr '\n' ' ')"
mkdir -p "$work/elsewhere"
printf '%s\n' '{"name": "Hold", "steps": [{"type": "recording", "recording": "default"},' \
    '{"type": "dtmf", "digits": "159", "toneMs": 120, "gapMs": 80}]}' > "$work/elsewhere/hold.json"
(cd "$work/elsewhere" && env -i PATH=/usr/bin:/bin "$tool" render hold.json -o hold.wav > render.txt 2> render.err)
cc -O1 -g -Wall -Werror -o "$work/spandsp_decode" Tests/CAPI/spandsp_decode.c $(pkg-config --cflags --libs sndfile spandsp)
render_digits=$("$work/spandsp_decode" "$work/elsewhere/hold.wav")
render_seconds=$(soxi -D "$work/elsewhere/hold.wav" 2>/dev/null)
expect "installed callseq renders the \"default\" recording from another directory (2.1 s prompt, then 159)" \
    '[ "$render_digits" = 159 ] && awk -v d="$render_seconds" "BEGIN { exit !(d > 2.4 && d < 3.0) }"' \
    "digits \"$render_digits\", $render_seconds s; $(cat "$work/elsewhere/render.txt" "$work/elsewhere/render.err")"
man="$prefix/share/man/man1/callseq.1"
expect "man page share/man/man1/callseq.1: a roff page naming the subcommands (render, serve, convert, detect)" \
    '[ "$(wc -c < "$man")" -gt 4000 ] && grep -q "^\.Dt CALLSEQ 1\|^\.TH CALLSEQ" "$man" && grep -q "render" "$man" && grep -q "serve" "$man" && grep -q "convert" "$man" && grep -q "detect" "$man"' \
    "$(head -c 300 "$man" 2>&1)"
if command -v man > /dev/null; then
    expect "man -l renders the page (NAME callseq, SYNOPSIS)" \
        'MANWIDTH=100 man -l "$man" 2>/dev/null | matches "callseq" && MANWIDTH=100 man -l "$man" 2>/dev/null | matches "SYNOPSIS"'
fi
for completion in share/bash-completion/completions/callseq share/zsh/site-functions/_callseq \
    share/fish/vendor_completions.d/callseq.fish; do
    expect "$completion: names the subcommands (render, serve, convert) and options (--recordings)" \
        '[ "$(wc -c < "$prefix/$completion")" -gt 2000 ] && grep -q "render" "$prefix/$completion" && grep -q "serve" "$prefix/$completion" && grep -q "convert" "$prefix/$completion" && grep -q -- "recordings" "$prefix/$completion"'
done
cat > "$work/complete.sh" <<'EOF'
source "$1"
COMP_WORDS=(callseq se); COMP_CWORD=1; COMP_LINE="callseq se"; COMP_POINT=10
COMPREPLY=(); _callseq callseq se callseq; echo "${COMPREPLY[*]}"
COMP_WORDS=(callseq convert --ext); COMP_CWORD=2; COMP_LINE="callseq convert --ext"; COMP_POINT=21
COMPREPLY=(); _callseq callseq --ext convert; echo "${COMPREPLY[*]}"
EOF
completed=$(PATH="$prefix/bin:$PATH" bash "$work/complete.sh" "$prefix/share/bash-completion/completions/callseq" 2>&1 | tr '\n' ' ')
expect "bash completes 'callseq se' to serve and 'callseq convert --ext' to --extension" \
    '[ "$completed" = "serve --extension " ]' "got \"$completed\""
printf '#include <callsequence.h>\n#include <stdio.h>\nint main(void) { puts(cs_version()); return 0; }\n' > "$work/version.c"
cc -o "$work/version" "$work/version.c" $(pkg-config --cflags --libs callsequence)
c_version=$("$work/version")
tool_version=$(env -i "$tool" --version)
expect "callseq --version = cs_version() = CS_VERSION_STRING (one source of truth)" \
    '[ -n "$tool_version" ] && [ "$tool_version" = "$c_version" ] && [ "$tool_version" = "$(pkg-config --modversion callsequence)" ]' \
    "callseq --version \"$tool_version\", cs_version() \"$c_version\""

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
    'ldd "$work/host/host" | matches "libcallsequence.so.0 => $lib" && ! ldd "$work/host/host" | matches -e "$toolchain" -e "not found"'
(cd "$work/host" && ./host "$repo/Examples/account.json" "$work/host.wav" > "$work/host.txt" 2> "$work/host.err")
expect "the host plays the lobby: menu, digit 1, the front door sequence, the SMS, the end" \
    'grep -q "IVR 0 plays its menu (play 1)" "$work/host.txt" && grep -q "2.000 s: caller pressed 1" "$work/host.txt" && grep -q "SMS from 5145550100 to 5145550199: \"Front door opened\"" "$work/host.txt" && grep -q "call over: the sequence finished" "$work/host.txt"' \
    "$(cat "$work/host.txt" "$work/host.err")"

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
