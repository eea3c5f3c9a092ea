"""A real Celery worker in its own process, for the tests that kill it (RELIABILITY F6).

`celery -A wholesale worker --pool=prefork --concurrency=1` is started against the pytest
test database and the test Redis, consuming one queue of its own, so the messages other
tasks leave on the default queue (the buyers' emails) stay there for the test to count.
A prefork worker is a parent that reads the broker and one child that runs the task: the
tests SIGKILL the child, the parent sees it gone and, since our tasks are `acks_late` with
`reject_on_worker_lost`, puts the message back on the queue at once for a new child.

`stop()` ends the whole process group (parent and children) and is meant for a `finally`.

ErpReceiver is an ERP endpoint on 127.0.0.1 for the exports that POST their file.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}{port}/{db['NAME']}"


def wait_until(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name may hold spaces and parentheses: the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class WorkerProcess:
    """One `celery worker` subprocess; use as a context manager or call start() and stop()."""

    def __init__(self, log_dir: Path, *, env: dict[str, str] | None = None, queue: str = ""):
        self.queue = queue or f"reliability-{uuid.uuid4().hex[:10]}"
        self.log_path = Path(log_dir) / f"{self.queue}-{uuid.uuid4().hex[:6]}.log"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 30) -> WorkerProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "wholesale.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            # The settings' test mode: a throwaway SECRET_KEY, no HTTPS redirects.
            "WHOLESALE_TESTING": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wholesale",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            self.queue,
            "-n",
            f"{self.queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches the children
        )
        wait_until(
            lambda: self.process.poll() is not None or " ready." in self.log(),
            timeout=timeout,
            what="the worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited at start:\n{self.log()[-3000:]}")
        return self

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def child_pids(self) -> list[int]:
        return _children(self.process.pid)

    def kill_child(self, *, timeout: float = 10) -> int:
        """SIGKILL the pool child (the process running the task); returns its pid."""
        [child] = wait_until(self.child_pids, timeout=timeout, what="the pool child")
        os.kill(child, signal.SIGKILL)
        return child

    def kill_all(self, *, timeout: float = 10) -> None:
        """SIGKILL the parent and its child at once: nobody is left to give the message back."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=timeout)

    def task_runs(self, task_id: str) -> int:
        """How many times the worker received this task (a requeued message counts again)."""
        return len(re.findall(rf"\[{re.escape(task_id)}\] received", self.log()))

    def task_succeeded(self, task_id: str) -> bool:
        return f"[{task_id}] succeeded" in self.log()

    def children_lost(self) -> int:
        return self.log().count("exited with 'signal 9 (SIGKILL)'")

    def stop(self, *, grace: float = 10) -> None:
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown: finish, then go
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=grace)
        except ProcessLookupError:
            pass  # already gone
        finally:
            self._log.close()
            self._purge_queue()

    def _purge_queue(self) -> None:
        from kombu import Connection

        with Connection(settings.CELERY_BROKER_URL) as broker:
            broker.default_channel.queue_purge(self.queue)
        unacked_drop(self.queue)


def _broker():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def unacked_tasks(queue: str) -> dict[str, str]:
    """{delivery tag: task id} of the messages of `queue` a worker took and never acknowledged.
    The Redis transport keeps them aside and puts them back on the queue only once they are
    older than the visibility timeout."""
    found = {}
    for tag, raw in _broker().hgetall("unacked").items():
        message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            found[tag.decode()] = message["headers"]["id"]
    return found


def unacked_drop(queue: str) -> None:
    """Forget a test queue's unacknowledged messages, so none comes back hours later."""
    client = _broker()
    for tag in unacked_tasks(queue):
        client.zrem("unacked_index", tag)
        client.hdel("unacked", tag)


def queued_tasks(queue: str = "celery") -> list[tuple[str, list, dict]]:
    """(task name, args, kwargs) of each message waiting on a Redis queue, oldest first."""
    found = []
    # The Redis transport pushes on the left and pops on the right: the oldest is last.
    for raw in reversed(_broker().lrange(queue, 0, -1)):
        message = json.loads(raw)
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, kwargs, _embed = json.loads(body)
        found.append((message["headers"]["task"], args, kwargs))
    return found


@dataclass(frozen=True)
class Received:
    batch: str
    secret: str
    body: bytes


class ErpReceiver:
    """A local ERP endpoint: records every POST (its X-Export-Batch key, its secret and its
    body) and answers 200. With `hold_first`, the first request is recorded, then held
    unanswered until `release` is set: the exporting process is stuck in its POST, the moment
    a test kills it."""

    def __init__(self, *, hold_first: bool = False):
        self.hold_first = hold_first
        self.requests: list[Received] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            batch=self.headers.get("X-Export-Batch", ""),
                            secret=self.headers.get("X-Export-Secret", ""),
                            body=body,
                        )
                    )
                    first = len(receiver.requests) == 1
                if first and receiver.hold_first:
                    receiver.first_arrived.set()
                    receiver.release.wait(timeout=60)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender was killed while we held its request

            def log_message(self, *args):
                pass  # keep the test output to the figures

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/erp/import"

    def __enter__(self) -> ErpReceiver:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
