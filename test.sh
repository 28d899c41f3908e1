#!/bin/sh
# Set up (first time only) and run every check: lint, layer contracts, the whole test suite.
set -eu
cd "$(dirname "$0")"
scripts/setup dev
. .venv/bin/activate
ruff check .
lint-imports
python -m pytest "$@"
