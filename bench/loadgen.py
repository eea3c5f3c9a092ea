"""Load generators for the bench: wrk (preferred) and a threaded Python fallback.

Both rotate over a list of paths and return the same ``Measurement``. Only figures from the same
generator in the same run are compared: the Python one costs far more CPU per request than wrk,
and on a two-core machine that CPU is taken from the server.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

LUA_SCRIPT = Path(__file__).resolve().parent / "rotate.lua"


@dataclass
class Measurement:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connection errors, timeouts and 4xx/5xx answers

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    base_url: str, paths_file: Path, *, seconds: float, connections: int, threads: int = 1
) -> Measurement:
    threads = max(1, min(threads, connections))
    command = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        base_url,
        "--",
        str(paths_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    seconds_run = data["duration_us"] / 1e6
    latency = data["latency_us"]
    return Measurement(
        requests=data["requests"],
        seconds=round(seconds_run, 2),
        rps=round(data["requests"] / seconds_run, 1),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        errors=sum(data["errors"].values()),
    )


def _send(conn: http.client.HTTPConnection, entry) -> None:
    """Send a path (a GET) or a buyer's request (bench.buyers.Request: method, path, cookie,
    csrf, body) on `conn`."""
    if isinstance(entry, str):
        conn.request("GET", entry)
        return
    headers = {"Cookie": entry.cookie, "X-CSRFToken": entry.csrf}
    if entry.body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(entry.method, entry.path, body=entry.body or None, headers=headers)


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def run_python(base_url: str, paths: list, *, seconds: float, connections: int) -> Measurement:
    """A closed-loop generator: `connections` threads, each sending its next request when the
    previous answer is in, over a kept-alive connection when the server allows it."""
    parts = urlsplit(base_url)
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(number: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        index = number * len(paths) // max(connections, 1)
        own = latencies[number]
        while time.monotonic() < deadline:
            path = paths[index % len(paths)]
            index += 1
            began = time.perf_counter()
            try:
                _send(conn, path)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[number] += 1
            except (OSError, http.client.HTTPException):
                errors[number] += 1
                conn.close()
                continue
            own.append(time.perf_counter() - began)
        conn.close()

    began = time.monotonic()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.monotonic() - began
    ordered = sorted(x * 1000 for own in latencies for x in own)
    return Measurement(
        requests=len(ordered),
        seconds=round(elapsed, 2),
        rps=round(len(ordered) / elapsed, 1),
        p50_ms=round(_percentile(ordered, 0.50), 2),
        p90_ms=round(_percentile(ordered, 0.90), 2),
        p99_ms=round(_percentile(ordered, 0.99), 2),
        max_ms=round(ordered[-1], 2) if ordered else 0.0,
        errors=sum(errors),
    )


def fetch(base_url: str, path, *, timeout: float = 30) -> tuple[int, bytes]:
    """One GET of a path (or one buyer's request), redirects not followed."""
    status, _location, body = send(base_url, path, timeout=timeout)
    return status, body


def send(base_url: str, entry, *, timeout: float = 30) -> tuple[int, str, bytes]:
    """One request (a path, or a buyer's request); returns status, Location and body."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        _send(conn, entry)
        response = conn.getresponse()
        return response.status, response.getheader("Location", ""), response.read()
    finally:
        conn.close()


def visit_all(base_url: str, paths: list[str], *, concurrency: int) -> list[tuple[str, int]]:
    """GET every path once; return those that did not answer 200, with their status."""

    def one(path: str) -> tuple[str, int]:
        try:
            return path, fetch(base_url, path)[0]
        except OSError:
            return path, 0

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return [(path, status) for path, status in pool.map(one, paths) if status != 200]
