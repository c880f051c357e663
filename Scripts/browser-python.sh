#!/usr/bin/env bash
# Prints the python3 that has PyPI's playwright (the browser tests drive Debian's /usr/bin/chromium with it;
# playwright downloads no browser here). The first python3 that imports it, else a virtual environment in
# .build/browser-venv with `pip install playwright` (Debian's python3 is externally managed, PEP 668; needs
# python3-venv from Scripts/debian-packages.txt). The Makefile's deps and .ci/run call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if python3 -c 'import playwright.sync_api' 2>/dev/null; then command -v python3; exit 0; fi
venv=.build/browser-venv
if ! "$venv/bin/python3" -c 'import playwright.sync_api' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check playwright >&2
fi
echo "$PWD/$venv/bin/python3"
