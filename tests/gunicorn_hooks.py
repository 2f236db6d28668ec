"""gunicorn configuration for `tests.helpers.LiveServer`: each worker says when it has loaded the application,
so a test fires its parallel requests only once every worker can take one."""


def post_worker_init(worker):
    worker.log.info("worker ready %s", worker.pid)
