"""gunicorn configuration for `tests.helpers.LiveServer`: the platform's own hooks (`app.ops.gunicorn`, as the
Procfile's `web` uses them), and each worker says when it has loaded the application, so a test fires its
parallel requests only once every worker can take one."""

from app.ops.gunicorn import on_starting  # noqa: F401 (gunicorn reads the hooks by name)


def post_worker_init(worker):
    worker.log.info("worker ready %s", worker.pid)
