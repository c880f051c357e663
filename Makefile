# CallSequence — the commands of the README, and what they need.
#   make demo   render Examples/front-door.json through the player and verify it with the detector
#   make lint   the Swift sources against .swift-format (swift format lint --strict)
#   make test   run the test suite (make lint; Scripts/mutation-check.py --check: every mutation still names a line that
#               exists; swift test; the management API against its OpenAPI document with two tenants,
#               schemathesis for 150 s: Scripts/check-api-schema.py; the editor in a real browser:
#               Scripts/check-editor.sh; make docs, about 1 minute once swift test has built; then the C API's and
#               the installed callseq's checks: Scripts/check-c-api.sh)
#   make install PREFIX=DIR / make uninstall PREFIX=DIR   DIR/bin/callseq with its man page (share/man/man1)
#               and bash/zsh/fish completions, the C library (libcallsequence.so, header, pkg-config), and the
#               Swift runtime both load, in DIR/lib; uninstall removes exactly that (DIR/share/callsequence/manifest)
#   make cluster / make cluster-test   Kamailio in front of two nodes on this machine (Deploy/kamailio)
#   make docs   the DocC documentation of every library target (swift-docc-plugin), failing on any warning
# They install the Debian packages of Scripts/debian-packages.txt when they are missing (apt-get; sudo when not
# root), and PyPI's playwright and schemathesis (pip install, Scripts/test-python.sh). .ci/run reads the same file.

# One package a line; `#` starts a comment ([\#]: a plain # would start a Makefile comment here).
APT_PACKAGES := $(strip $(shell sed -e 's/[\#].*//' Scripts/debian-packages.txt))
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

# The render paths whose malloc counts CI checks against Benchmarks/Thresholds (zero per frame).
CHECKED_BENCHMARKS := Harness.Empty|Synthesis.Ours.*|Detection.Ours.*|Player.*|IVR.*|CAPI.*

.PHONY: lint demo test deps build release clean benchmarks instructions media-refcount benchmark-check benchmark-thresholds install uninstall fuzz docs cluster cluster-test

PREFIX ?= /usr/local

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@Scripts/test-python.sh > /dev/null

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

release: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

demo: release
	.build/release/callseq demo

test: deps lint
	Scripts/mutation-check.py --check
	swift test $(SWIFT_BUILD_FLAGS)
	"$$(Scripts/test-python.sh)" Scripts/check-api-schema.py "$$(swift build $(SWIFT_BUILD_FLAGS) --show-bin-path)/callseq"
	SWIFT_BUILD_FLAGS="$(SWIFT_BUILD_FLAGS)" Scripts/check-editor.sh
	$(MAKE) -s docs
	Scripts/check-c-api.sh

# The code follows .swift-format (swift-format, part of the Swift toolchain): `swift format -i -r` fixes what
# this reports. The generated WebAssets.swift and OpenAPIDocument.swift say swift-format-ignore-file.
FORMATTED := Package.swift Sources Tests Benchmarks/Package.swift Benchmarks/Benchmarks Benchmarks/Sources Benchmarks/FrameCost
lint:
	swift format lint --strict -r --configuration .swift-format $(FORMATTED)

# The C library: DIR/include/callsequence.h, DIR/lib/libcallsequence.so.0 (+ .so link and the Swift runtime it
# loads, rpath $ORIGIN), DIR/lib/pkgconfig/callsequence.pc; the command line: DIR/bin/callseq (rpath
# $ORIGIN/../lib), its man page DIR/share/man/man1/callseq.1 (swift-argument-parser's generate-manual plugin) and
# its bash, zsh and fish completions. uninstall removes exactly what install put there (Scripts/install.sh).
install: deps
	swift build -c release --product callsequence $(SWIFT_BUILD_FLAGS)
	swift build -c release --product callseq $(SWIFT_BUILD_FLAGS)
	rm -f .build/plugins/GenerateManual/outputs/callseq/callseq.1
	swift package plugin generate-manual $(SWIFT_BUILD_FLAGS) > .build/generate-manual.log 2>&1 || \
	    { cat .build/generate-manual.log; exit 1; }
	Scripts/install.sh install "$$(swift build -c release --show-bin-path)" "$(PREFIX)" \
	    .build/plugins/GenerateManual/outputs/callseq/callseq.1

uninstall:
	Scripts/install.sh uninstall "$(PREFIX)"

# The DocC documentation of every library target (swift-docc-plugin), failing on any DocC warning; the archives
# are in .build/plugins/Swift-DocC/outputs/TARGET.doccarchive. The library products' catalogs show their public
# API; CallServer's and ManagementAPI's (no product: their API is `package`, for callseq and the tests) show
# package symbols.
DOC_TARGETS := TelephonyDSP Recordings CallSequenceModel CallSequenceEngine SMSText SMSGateway RTP SIP CallSequenceStore CallSequenceStorePostgres
PACKAGE_DOC_TARGETS := CallServer ManagementAPI
docs: deps
	swift package generate-documentation $(foreach t,$(DOC_TARGETS),--target $(t)) --warnings-as-errors
	swift package generate-documentation $(foreach t,$(PACKAGE_DOC_TARGETS),--target $(t)) \
	    --symbol-graph-minimum-access-level package --warnings-as-errors

# Scale-out on one machine (Deploy/kamailio, Scripts/cluster.py): Kamailio on 127.0.0.1 in front of two
# `callseq serve --store postgres://...` nodes on 127.0.0.2 and 127.0.0.3 sharing a throw-away PostgreSQL (initdb
# in a temporary folder, a unix socket, a free port), the account made through the API; free ports, a temporary
# folder.
#   make cluster        in the foreground (texts in dry run), Ctrl-C stops all
#   make cluster-test   through Kamailio with SIPp and a small SIP caller: the split of 200 calls, kill -9 of a
#                       node under load (marked down within 4 s, its callers get an in-dialog BYE within 5 s, back
#                       within 2 s of its restart), SIGTERM of a node under load (no new call after 2 s, its calls
#                       finish, exit 0), texts across nodes (40 calls, daily limit 5: exactly 5 reach a fake
#                       provider; a node killed mid-send leaves `unknown`), a change on one node played by the
#                       other's next call within 1 s, PostgreSQL restarted under calls; no Kamailio crash; about
#                       1.5 minutes
cluster: deps
	swift build -c release --product callseq $(SWIFT_BUILD_FLAGS)
	python3 Scripts/cluster.py run "$$(swift build -c release --show-bin-path)/callseq"

cluster-test: deps
	swift build -c release --product callseq $(SWIFT_BUILD_FLAGS)
	timeout 600 python3 Scripts/cluster.py test "$$(swift build -c release --show-bin-path)/callseq"

# The full benchmark table (ours vs spandsp, frame copy and sox), as in the README.
benchmarks: deps
	Benchmarks/run.sh

# Instructions (callgrind, measured region only) and wall-clock medians of each workload and its reference.
instructions: deps
	Benchmarks/instructions.sh

# The live media thread's loop under callgrind with 20 SIPp calls: malloc, swift_allocObject, swift_retain and
# swift_release never per packet (a few per call, joining and leaving the thread).
media-refcount: deps
	Benchmarks/Live/refcount.sh

# What CI checks: allocation counts of the render paths, against the thresholds kept in the repo.
benchmark-check: deps
	cd Benchmarks && CI=true swift package benchmark thresholds check --filter '$(CHECKED_BENCHMARKS)' --no-progress

# After an intended change of those counts: rewrite Benchmarks/Thresholds.
benchmark-thresholds: deps
	cd Benchmarks && CI=true swift package --allow-writing-to-package-directory benchmark thresholds update \
	    --filter '$(CHECKED_BENCHMARKS)' --no-progress

clean:
	rm -rf .build Benchmarks/.build out

# libFuzzer (swiftc -sanitize=fuzzer,address): each target for FUZZ_SECONDS (default 600). New corpus entries go
# to .build-fuzz/corpus/TARGET (the committed seeds in TestAudio are only read); a crash, leak or trap is
# written to Fuzz/crashes/TARGET-* and fails the run.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= json sequence account dialstring audio sip rtp
fuzz:
	CALLSEQ_FUZZ=1 swift build --build-path .build-fuzz --product CallSequenceFuzz \
	    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
	mkdir -p Fuzz/crashes
	@for t in $(FUZZ_TARGETS); do \
	  case $$t in audio) seeds="TestAudio/formats TestAudio/damaged";; dialstring) seeds="";; \
	    account) seeds="TestAudio/accounts";; sip) seeds="Tests/SIPp/seeds";; rtp) seeds="";; \
	    *) seeds="TestAudio/sequences";; esac; \
	  mkdir -p .build-fuzz/corpus/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s"; \
	  LSAN_OPTIONS=suppressions=Fuzz/lsan.supp FUZZ_TARGET=$$t .build-fuzz/debug/CallSequenceFuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -max_len=65536 -artifact_prefix=Fuzz/crashes/$$t- .build-fuzz/corpus/$$t $$seeds || exit 1; \
	done
