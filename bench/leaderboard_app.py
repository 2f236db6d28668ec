"""The platform as gunicorn serves it, plus one static route for the leaderboard benchmark's comparison file
(`BENCH_STATIC_DIR`), so both go through the same server, workers and middleware."""
from __future__ import annotations

import os

from flask import send_from_directory

from app import create_app
from app.security import public

app = create_app()


@public
def bench_static(name: str):
    """A file from the benchmark's static folder, as Flask serves static files."""
    return send_from_directory(os.environ["BENCH_STATIC_DIR"], name)


app.add_url_rule("/bench-static/<path:name>", "bench_static", bench_static)
