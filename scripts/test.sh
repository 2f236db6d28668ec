#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite: installs and starts PostgreSQL, a single-node Slurm
# cluster and Chromium for the tests, fetches axe-core (pinned, hash-checked: scripts/services/axe.sh) for the
# browser tests, checks the import architecture, lint and formatting (ruff) and the migrations, runs pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
# uv installs no bytecode unless asked; the suite starts hundreds of Python processes (servers, lm-eval runs),
# each of which would compile its imports again where PYTHONDONTWRITEBYTECODE is set. start.sh does not ask:
# compiling all of site-packages costs the first start more than it saves it (bench/fresh_start.md).
export UV_COMPILE_BYTECODE=1
ensure_venv eval,dev
export LAGC_SERVICES_BASE="${LAGC_SERVICES_BASE:-/tmp/lagc-services}"
eval "$(bash scripts/services/all.sh start --chromium)"
trap 'bash scripts/services/all.sh stop >/dev/null 2>&1 || true' EXIT
export LAGC_REQUIRE_POSTGRES=1 LAGC_REQUIRE_SSH=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/python -m pytest -p no:cacheprovider "$@"
