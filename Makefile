# CallSequence — the two commands of the README, and what they need.
#   make demo   render Examples/front-door.json through the player and verify it with the detector
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

demo: release
	.build/release/callseq demo

test: deps
	swift test $(SWIFT_BUILD_FLAGS)

clean:
	rm -rf .build out
