# CallSequence — the two commands of the README, and what they need.
#   make demo   render the bundled example and check it with the detector
#   make test   run the test suite
# Both install the Debian packages below when they are missing (apt-get; sudo when not root).

APT_PACKAGES := pkg-config libsndfile1-dev libsoxr-dev libspandsp-dev sox libsox-fmt-base espeak-ng
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT_BUILD_FLAGS ?=

.PHONY: demo test deps build release clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

release: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

DEMO_DIGITS := 1234567890*\#ABCD

demo: release
	@mkdir -p out
	.build/release/callseq dtmf '$(DEMO_DIGITS)' -o out/demo.wav
	.build/release/callseq detect out/demo.wav | tee out/demo.txt
	@test "$$(head -n 1 out/demo.txt)" = '$(DEMO_DIGITS)' && echo "demo: the detector decoded every digit"

test: deps
	swift test $(SWIFT_BUILD_FLAGS)

clean:
	rm -rf .build out
