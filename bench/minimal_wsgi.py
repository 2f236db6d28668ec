"""The least a WSGI application can do to return the platform's responses: the limit the leaderboard benchmark
measures the platform against (`bench/leaderboard_load.py`), served by the same gunicorn settings.

`BENCH_CAPTURE` names a JSON file the benchmark wrote: {"path?query": [status line, [[name, value], ...],
body base64]}, each response exactly as the platform sent it (its X-Request-ID included, so the headers have
the same size) but for what gunicorn adds itself (Date, Server, Connection). Answering is one dictionary
lookup: what the platform spends beyond this is the cost of being a platform.
"""

from __future__ import annotations

import base64
import json
import os

RESPONSES = {
    key: (status, [tuple(header) for header in headers], base64.b64decode(body))
    for key, (status, headers, body) in json.loads(open(os.environ["BENCH_CAPTURE"]).read()).items()
}


def app(environ, start_response):
    """The captured response of this path and query string."""
    status, headers, body = RESPONSES[environ["PATH_INFO"] + "?" + environ["QUERY_STRING"]]
    start_response(status, headers)
    return [body]
