"""Dependencies that say the truth: a web-only install (`pip install .`, no extras) starts, migrates, loads the
demo and serves every page. `web_only_probe.py` runs the platform in an interpreter whose import hook refuses
every distribution outside pyproject.toml's runtime dependencies (and what they require)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("web_only_probe.py")


def test_a_web_only_install_starts_migrates_loads_the_demo_and_serves_every_page(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LAGC_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, str(PROBE), str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failures"] == [] and report["requests"] > 300
    assert "run_evaluations" in report["steps"]  # the scheduler's steps import without the eval extra
    assert set(report["refused"]) & {"torch", "transformers", "tokenizers"}  # the demo asked; it was refused
