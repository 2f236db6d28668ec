#!/usr/bin/env bash
# Print the Alembic operations that would bring the migrations (at head) in line with the models, without
# touching migrations/: it works on a copy. A schema change is a new dated migration (a released revision is
# never edited): `bash scripts/dev/new-migration.sh SLUG` writes one with these operations.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r migrations alembic.ini "$tmp"/
rm -rf "$tmp"/migrations/versions/__pycache__
export DATABASE_URL="sqlite:///$tmp/diff.db"
.venv/bin/alembic -c "$tmp/alembic.ini" upgrade head >/dev/null 2>&1
.venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate -m diff --rev-id zzdiff >"$tmp/log" 2>&1 || {
  cat "$tmp/log"; exit 1; }
sed -n '/^def upgrade/,$p' "$tmp"/migrations/versions/zzdiff_diff.py
echo
echo "# To start a new dated migration with these operations (down_revision = the current head):"
echo "#   bash scripts/dev/new-migration.sh SLUG     -> migrations/versions/$(date -u +%Y_%m_%d)_SLUG.py"
