#!/bin/sh
# Set up (first time only) and start the box on the virtual board.
# With no options it runs the built-in office: extensions 101-104 on the virtual FXS ports.
# Any main.py option may follow, e.g. ./run.sh --config office.toml --state-dir state
set -eu
cd "$(dirname "$0")"
scripts/setup
exec .venv/bin/python boot.py "$@"
