#!/usr/bin/env bash
# Prints the python3 that has the PyPI packages the tests drive: playwright (the browser tests drive Debian's
# /usr/bin/chromium with it; it downloads no browser here) and schemathesis (the API against its OpenAPI
# document). The first python3 that imports both, else a virtual environment in .build/test-venv with
# `pip install` (Debian's python3 is externally managed, PEP 668; needs python3-venv from
# Scripts/debian-packages.txt). The Makefile's deps and .ci/run call it.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(playwright schemathesis)
check='import playwright.sync_api, schemathesis'
if python3 -c "$check" 2>/dev/null; then command -v python3; exit 0; fi
venv=.build/test-venv
if ! "$venv/bin/python3" -c "$check" 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${packages[@]}" >&2
fi
echo "$PWD/$venv/bin/python3"
