#!/usr/bin/env bash
# Set up (idempotent) and run the platform on its embedded defaults: SQLite under instance/, the local
# evaluation runner, the scheduler beside the web server, and the demo challenge. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
ensure_venv eval
export FLASK_APP=app
.venv/bin/flask db upgrade
.venv/bin/flask demo load
exec .venv/bin/python -m app.launcher
