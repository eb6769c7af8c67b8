"""gunicorn's timeouts and request limits for the web process, read by `make run` (scripts/procfile.py) and
by the web image (Dockerfile.web) with `--config web/gunicorn.conf.py`; the command line still wins.

gunicorn is not built to face clients directly: a client that sends its request a byte at a time holds
one of its threads for as long as it likes, and 40 such sockets stopped /health answering (issue 12,
finding 7). In production nginx always sits in front (it reads whole requests before passing them on:
nginx/nginx.conf); under `make run` gunicorn listens on 127.0.0.1 only (WEB_HOST). These settings bound
what gunicorn itself does spend on a client.
"""

# A worker whose main loop is silent this long is restarted; a stopping one gets this long to finish.
timeout = 30
graceful_timeout = 20
# Idle kept-alive connections (and connections that send nothing) are closed after this many seconds.
# nginx's upstream keepalive_timeout (nginx/nginx.conf) is shorter, so that nginx, not gunicorn, closes
# an idle connection: never one nginx is just sending a request on.
keepalive = 5
# The largest request head the app needs is a launch URL (DOMAIN, APP_SID ...) or a Yandex callback
# (code, state): well under these. Browsers send about 20 header fields; nginx adds six.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# Open connections per worker, kept-alive ones included.
worker_connections = 500
