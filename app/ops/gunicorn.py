"""gunicorn's hooks for the platform's web server (`gunicorn -c python:app.ops.gunicorn ...`, see the Procfile).

prometheus_client's multiprocess mode keeps each worker's metrics in a file of the metrics folder and adds
every file up at a scrape; the files of a previous run must go before the new workers start.
"""

from __future__ import annotations

from app.ops.observability import clear_metrics_folder
from app.settings import Settings


def on_starting(_server) -> None:
    """In gunicorn's master, before any worker: empty the metrics folder of the previous run's files."""
    clear_metrics_folder(Settings.from_env().metrics_dir)
