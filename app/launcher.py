"""The embedded run: the web server (gunicorn) and the scheduler side by side; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from app.settings import Settings


def main() -> int:
    settings = Settings.from_env()
    host = settings.host
    bin_dir = os.path.dirname(sys.executable)
    web = [
        os.path.join(bin_dir, "gunicorn"),
        "-c",
        "python:app.ops.gunicorn",
        "--bind",
        f"{host}:{settings.port}",
        "--workers",
        str(settings.web_concurrency),
        "--access-logfile",
        "-",
        "app:create_app()",
    ]
    scheduler = [sys.executable, "-m", "evaluation.scheduler"]
    processes = [subprocess.Popen(cmd) for cmd in (web, scheduler)]
    print(
        f"\nThe platform runs at http://{host}:{settings.port}/ (Ctrl-C stops the web server and the scheduler)\n",
        flush=True,
    )
    stopping = False

    def stop(_signum=None, _frame=None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(p.poll() is None for p in processes):
        time.sleep(0.2)
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
