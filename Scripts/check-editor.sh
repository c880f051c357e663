#!/usr/bin/env bash
# The sequence editor in a real browser (make test runs it after swift test): Tests/Browser/editor_test.py
# drives Debian's chromium with PyPI's playwright against `callseq serve --store <temp> --http 127.0.0.1:0`.
# Bounded: the whole run is stopped after 5 minutes (it takes about 20 s). The editor's screenshot and, on
# failure, the page's are left in .build/editor-test/. Refreshing the README's picture:
#   UPDATE_DOCS_SCREENSHOT=/tmp/editor.png Scripts/check-editor.sh
#   pngquant --quality 60-85 --output docs/editor.png /tmp/editor.png   # (about 30 KB; also copy it to
#   Sources/ManagementAPI/Documentation.docc/editor.png for the Editor article)
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(Scripts/test-python.sh)
swift build --product callseq ${SWIFT_BUILD_FLAGS:-} > .build/check-editor-build.log 2>&1 || { cat .build/check-editor-build.log; exit 1; }
bin=$(swift build --show-bin-path ${SWIFT_BUILD_FLAGS:-})
timeout --kill-after=10 300 "$python" Tests/Browser/editor_test.py "$bin/callseq" .build/editor-test
