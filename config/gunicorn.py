"""gunicorn's settings, one place for the Dockerfile, docker-compose and the benchmarks that serve the app as
production does (``gunicorn -c config/gunicorn.py config.wsgi:application``).

Threaded workers (``gthread``): the master's timeout watches a worker's heartbeat, which a threaded worker
keeps beating while one of its threads streams a long export (the county's persons, a bank file) to a slow
intranet link; a synchronous worker would be killed after ``timeout`` seconds in the middle of the download.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# No keep-alive: a threaded worker keeps a kept-alive connection to itself, so 20 clients would stay spread
# over the workers as the first accepts fell (seen: the same page at 230 to 970 requests/s from one run to the
# next); closed after each response, every request goes to whichever worker accepts first, as with
# synchronous workers. The reverse proxy in front keeps the browsers' connections alive.
keepalive = 0
timeout = 120
graceful_timeout = 30
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
