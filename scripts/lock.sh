#!/usr/bin/env bash
# Refresh uv.lock on purpose, and every file derived from the locked versions, for one commit.
#   scripts/lock.sh                         after editing pyproject.toml: lock what changed, keep every other pin
#   scripts/lock.sh --upgrade               move every package to the newest version pyproject.toml allows
#   scripts/lock.sh --upgrade-package NAME  move one package (and what it needs) only
# Arguments go to `uv lock`. Then .venv is synced to the new lock (extras eval,dev) and the derived files are
# rewritten from it: scripts/lib/uv-requirements.txt (the uv that bootstraps every install),
# scripts/lib/agent-requirements.txt (the site agent's dependencies alone) and
# app/checkpoints/native_architectures.txt (the model classes of the locked transformers).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
ensure_uv
"$UV" lock --python python3 "$@"
{
  echo "# The uv that bootstraps every install (scripts/lib/venv.sh): the version uv.lock pins and the sha256 of"
  echo "# its Linux x86-64 wheel. Written by scripts/lock.sh; do not edit by hand."
  python3 -c 'import sys; sys.path.insert(0, "."); import evaluation.environment as e; print(e.uv_bootstrap_requirement("uv.lock"))'
} > scripts/lib/uv-requirements.txt.new
mv scripts/lib/uv-requirements.txt.new scripts/lib/uv-requirements.txt
{
  echo "# The site agent's dependencies alone (the agent extra and what it needs, no Flask, no database driver), as"
  echo "# uv.lock pins them, with every file's hash (docs/SITES.md). Written by scripts/lock.sh; do not edit by hand:"
  echo "#   pip install --no-deps --require-hashes -r scripts/lib/agent-requirements.txt"
  echo "#   pip install --no-deps 'lagc-platform[agent]'"
  python3 -c 'import sys; sys.path.insert(0, "."); import evaluation.environment as e; print("\n".join(e.extra_requirements("uv.lock", "lagc-platform", "agent")))'
} > scripts/lib/agent-requirements.txt.new
mv scripts/lib/agent-requirements.txt.new scripts/lib/agent-requirements.txt
ensure_venv eval,dev
FLASK_APP=app .venv/bin/flask checkpoint refresh-architectures
echo "Commit these together:"
git status --short -- pyproject.toml uv.lock scripts/lib/uv-requirements.txt scripts/lib/agent-requirements.txt \
  app/checkpoints/native_architectures.txt
