"""Storefront benchmark: one command, ``make bench`` (or ``.venv/bin/python bench/run.py``).

Seeds (or reuses) a 20,000-product catalog in PostgreSQL, serves the project with gunicorn
(2 workers) and measures, with wrk, the catalog list, search and product pages, and the
ordering pages of logged-in buyers (add to cart, the cart, placing an order), against a minimal
Django view served by the same server in the same run; first with the page cache off ("cold"),
then with it on and filled ("warm"). Prints a table and writes bench/results/latest.json.
See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import buyers, config, loadgen, seed

WARM_CACHE_SECONDS = 3600
SEARCH_TERMS = (
    "mug",
    "hoodie",
    "water bottle",
    "organic cotton towel",
    "bluetooth speaker",
    "umbrella",
    "stainless steel",
    "power bank",
    "linen cushion",
    "bamboo",
    "WS01234-1",
)
SORTS = ("newest", "best", "price", "-price")
PRODUCT_SAMPLE = 1_000
PAGES = ("minimal", "list", "search", "product", "add", "cart", "place")
# Pages of logged-in buyers (bench/buyers.py): their requests carry a session and a CSRF token.
BUYER_PAGES = ("add", "cart", "place")
# Page -> phase -> (kind, threshold): a ratio to the minimal view's req/s, or a p99 in ms.
TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "list": {"cold": ("ratio", 0.10), "warm": ("ratio", 0.50)},
    "product": {"cold": ("ratio", 0.10), "warm": ("ratio", 0.50)},
    "search": {"cold": ("p99", 50.0), "warm": ("p99", 50.0)},
    "add": {"cold": ("ratio", 0.06), "warm": ("ratio", 0.06)},
    "cart": {"cold": ("ratio", 0.06), "warm": ("ratio", 0.06)},
    "place": {"cold": ("ratio", 0.02), "warm": ("ratio", 0.02)},
}
# Most SQL queries a page may run (issue 3: add to cart at most 10).
QUERY_LIMITS = {"add": 10}
# A piece of each page that only renders when the page is complete (prices shown, items found).
MARKERS = {
    "minimal": b"ok",
    "list": b'class="card"',
    "search": b'data-testid="result-count"',
    "product": b'data-testid="tier-table"',
    "cart": b'data-testid="cart-ready"',
}
# Where a buyer's POST sends them when it worked (a redirect; anything else is a failure).
REDIRECTS = {"add": "/cart/", "place": "/account/orders/"}


class Stop(Exception):
    """SIGTERM or SIGHUP: leave through the same cleanup as Ctrl-C."""


def _raise_stop(signum, _frame):
    raise Stop(signal.Signals(signum).name)


@dataclass
class Server:
    """A gunicorn serving the project with bench.urls, in its own process group."""

    phase: str
    page_cache_seconds: int
    worker_class: str
    threads: int
    port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log_path = config.RESULTS_DIR / f"gunicorn-{self.phase}.log"
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "wholesale.wsgi:application",
            "--workers",
            "2",
            "--worker-class",
            self.worker_class,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "--error-logfile",
            str(self.log_path),
        ]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        self.log_path.write_text("")
        self.process = subprocess.Popen(
            command,
            cwd=config.ROOT,
            env=config.bench_env(page_cache_seconds=self.page_cache_seconds),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the whole group
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited early:\n{self.log_path.read_text()}")
            try:
                if loadgen.fetch(self.base_url, "/bench/minimal", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within 60 s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


def prepare() -> None:
    """Static files for the manifest storage, empty log tables; the Redis DB is flushed per
    phase."""
    from django.core.management import call_command
    from django.db import connection

    config.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_productview, catalog_searchlog")


def busy_cpus(seconds: float = 1.0) -> float | None:
    """How many CPUs other processes keep busy, sampled while the bench itself is idle."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:9]]
        return sum(values), values[3] + values[4]  # all jiffies; idle + iowait

    try:
        total_before, idle_before = sample()
        time.sleep(seconds)
        total_after, idle_after = sample()
    except (OSError, ValueError):
        return None
    elapsed = max(total_after - total_before, 1)
    busy = 1 - (idle_after - idle_before) / elapsed
    return round(busy * (os.cpu_count() or 1), 2)


def flush_cache() -> None:
    """Empty the bench's own Redis database (9 unless BENCH_REDIS_URL says otherwise)."""
    import redis

    redis.Redis.from_url(config.REDIS_URL).flushdb()


def fragment_keys() -> int:
    import redis

    client = redis.Redis.from_url(config.REDIS_URL)
    return sum(1 for _ in client.scan_iter(match="*catalog:fragment:*", count=1000))


def build_paths() -> dict[str, list[str]]:
    from urllib.parse import urlencode

    from catalog.models import Category, Product

    lists = [f"/catalog/?sort={sort}&page={n}" for sort in SORTS for n in range(1, 11)]
    lists += ["/catalog/?page=1"] + [f"/catalog/?page={n}" for n in (50, 100, 200, 400, 800)]
    for slug in Category.objects.order_by("pk").values_list("slug", flat=True):
        lists += [f"/catalog/?category={slug}&page={n}" for n in (1, 2, 3)]
    searches = []
    for term in SEARCH_TERMS:
        searches.append("/catalog/?" + urlencode({"q": term}))
        if " " in term or term.isalpha():
            searches.append("/catalog/?" + urlencode({"q": term, "page": 2}))
    slugs = list(Product.objects.published().order_by("pk").values_list("slug", flat=True))
    step = max(1, len(slugs) // PRODUCT_SAMPLE)
    products = [f"/products/{slug}/" for slug in slugs[::step][:PRODUCT_SAMPLE]]
    return {"minimal": ["/bench/minimal"], "list": lists, "search": searches, "product": products}


def search_hits() -> dict[str, int]:
    from catalog import selectors

    return {term: selectors.product_search(term=term).count() for term in SEARCH_TERMS}


def query_counts(paths: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Most SQL queries any of a few sample URLs of each page runs, cache off and cache warm."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    # A failing page is reported below, in one line, instead of by django.request's traceback.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    counts: dict[str, dict[str, int]] = {}
    for page, urls in paths.items():
        sample = urls[:: max(1, len(urls) // 5)][:5]
        counts[page] = {}
        for phase, seconds in (("cold", 0), ("warm", WARM_CACHE_SECONDS)):
            worst = 0
            with override_settings(WHOLESALE_PAGE_CACHE_SECONDS=seconds):
                for url in sample:
                    try:
                        client.get(url)  # fills the cache in the warm case
                        with CaptureQueriesContext(connection) as queries:
                            response = client.get(url)
                    except Exception as exc:
                        raise SystemExit(
                            f"{page}: {url} fails: {type(exc).__name__}: {str(exc)[:300]}"
                        ) from exc
                    if response.status_code != 200:
                        raise SystemExit(f"{page}: {url} answered {response.status_code}")
                    worst = max(worst, len(queries))
            counts[page][phase] = worst
    return counts


def buyer_query_counts(feeds: dict[str, buyers.Feed]) -> dict[str, dict[str, int]]:
    """SQL queries of one request of each ordering page, run in-process as its buyer, with the
    page cache off and on. Placing uses up the carts of the two buyers it places for."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    counts: dict[str, dict[str, int]] = {}
    for page in BUYER_PAGES:
        feed = feeds[page]
        counts[page] = {}
        for phase, seconds in (("cold", 0), ("warm", WARM_CACHE_SECONDS)):
            request = feed.remaining()[0]
            feed.consume(1)
            client = Client(HTTP_HOST="127.0.0.1", HTTP_COOKIE=request.cookie)
            with (
                override_settings(WHOLESALE_PAGE_CACHE_SECONDS=seconds),
                CaptureQueriesContext(connection) as queries,
            ):
                if request.method == "GET":
                    response = client.get(request.path)
                else:
                    response = client.post(
                        request.path, request.body, content_type="application/x-www-form-urlencoded"
                    )
            expected = REDIRECTS.get(page)
            location = response.get("Location", "")
            if (expected and not location.startswith(expected)) or (
                not expected and response.status_code != 200
            ):
                raise SystemExit(
                    f"{page}: {request.method} {request.path} answered "
                    f"{response.status_code} {location}"
                )
            counts[page][phase] = len(queries)
    return counts


def check_buyer_pages(server: Server, feeds: dict[str, buyers.Feed]) -> None:
    """The cart shows every cart ready for checkout; adding and placing redirect where they
    should (placing uses up one cart)."""
    for page in BUYER_PAGES:
        feed = feeds[page]
        request = feed.remaining()[0]
        status, location, body = loadgen.send(server.base_url, request)
        feed.consume(1)
        expected = REDIRECTS.get(page)
        ok = location.startswith(expected) if expected else status == 200 and MARKERS[page] in body
        if not ok:
            raise SystemExit(
                f"{page}: {request.method} {request.path} answered {status} {location}:\n"
                f"{body[:2000].decode(errors='replace')}\n{server.log_path.read_text()[-4000:]}"
            )
    failed = loadgen.visit_all(server.base_url, feeds["cart"].requests, concurrency=2)
    if failed:
        raise SystemExit(f"cart: {len(failed)} carts did not answer 200")


def check_pages(server: Server, paths: dict[str, list[str]], files: dict[str, Path]) -> None:
    """Every URL answers 200 (this also fills the page cache when it is on), and the first of
    each page shows what the page is for. Fails loudly otherwise."""
    for page, urls in paths.items():
        status, body = loadgen.fetch(server.base_url, urls[0])
        if status != 200 or MARKERS[page] not in body:
            raise SystemExit(
                f"{page}: {urls[0]} answered {status} without {MARKERS[page]!r}:\n"
                f"{body[:2000].decode(errors='replace')}\n{server.log_path.read_text()[-4000:]}"
            )
        failed = loadgen.visit_all(server.base_url, urls, concurrency=2)
        if failed:
            raise SystemExit(f"{page}: {len(failed)} URLs did not answer 200, e.g. {failed[:5]}")


def measure(server: Server, files, paths, page: str, seconds: float, args, feeds) -> dict:
    feed = feeds.get(page)
    if feed is not None:  # a buyer's page: the requests not used yet
        files[page] = feed.write(config.RESULTS_DIR / f"requests-{page}.txt")
        available = len(feed.remaining())
    if args.loadgen == "wrk":
        result = loadgen.run_wrk(
            server.base_url, files[page], seconds=seconds, connections=args.connections
        )
    else:
        entries = feed.remaining() if feed is not None else paths[page]
        result = loadgen.run_python(
            server.base_url, entries, seconds=seconds, connections=args.connections
        )
    if result.errors:
        raise SystemExit(f"{page}: {result.errors} errors under load; see {server.log_path}")
    if feed is not None and feed.once:
        # Requests still in flight when the run ended may have been served: skip them too.
        if result.requests + args.connections > available:
            raise SystemExit(
                f"{page}: {available} prepared carts ran out ({result.requests} requests); "
                f"raise --place-buyers"
            )
        feed.consume(result.requests + args.connections)
    return result.as_dict()


def combine(rounds: list[dict]) -> dict:
    """One figure from interleaved rounds: req/s over all of them, the request-weighted p50 and
    p90, and the worst round's p99 (percentiles of separate runs cannot be merged exactly)."""
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)

    def weighted(key: str) -> float:
        return round(sum(r[key] * r["requests"] for r in rounds) / max(requests, 1), 2)

    return {
        "requests": requests,
        "seconds": round(seconds, 2),
        "rps": round(requests / seconds, 1),
        "p50_ms": weighted("p50_ms"),
        "p90_ms": weighted("p90_ms"),
        "p99_ms": max(r["p99_ms"] for r in rounds),
        "max_ms": max(r["max_ms"] for r in rounds),
        "rounds_rps": [r["rps"] for r in rounds],
    }


def run_phase(server: Server, files, paths, args, feeds) -> dict[str, dict]:
    """Measure every page in `args.rounds` interleaved rounds (minimal, list, search, product,
    minimal, ...), so that load from other processes on the machine hits all pages alike."""
    seconds = max(1, round(args.duration / args.rounds))
    for page in PAGES:  # unrecorded: connections, imports, PostgreSQL's buffers
        if args.warmup > 0:
            measure(server, files, paths, page, args.warmup, args, feeds)
    rounds: dict[str, list[dict]] = {page: [] for page in PAGES}
    for number in range(args.rounds):
        for page in PAGES:
            result = measure(server, files, paths, page, seconds, args, feeds)
            rounds[page].append(result)
            print(
                f"  round {number + 1}: {page:8} {result['rps']:8.0f} req/s  "
                f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms",
                flush=True,
            )
    return {page: combine(results) for page, results in rounds.items()}


def verdict(
    page: str, phase: str, result: dict, ratio: float, queries: int
) -> tuple[str, bool | None]:
    target = TARGETS.get(page, {}).get(phase)
    if target is None:
        return ("baseline" if page == "minimal" else "-"), None
    kind, threshold = target
    if kind == "ratio":
        text, met = f">= {threshold:.0%} of minimal", ratio >= threshold
    else:
        text, met = f"p99 < {threshold:g} ms", result["p99_ms"] < threshold
    if page in QUERY_LIMITS:
        text += f", <= {QUERY_LIMITS[page]} queries"
        met = met and queries <= QUERY_LIMITS[page]
    return text, met


def print_table(rows: list[dict]) -> None:
    header = ("page", "phase", "req/s", "p50 ms", "p99 ms", "ratio", "target", "met?")
    lines = [header]
    for row in rows:
        met = {True: "yes", False: "NO", None: ""}[row["met"]]
        lines.append(
            (
                row["page"],
                row["phase"],
                f"{row['rps']:.0f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                f"{row['ratio']:.1%}",
                row["target"],
                met,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("  ".join("-" * width for width in widths))


def git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=config.ROOT, capture_output=True, text=True
    )
    return done.stdout.strip()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds measured per page and phase"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="interleaved rounds the duration is split into"
    )
    parser.add_argument("--warmup", type=float, default=2, help="unrecorded seconds per page")
    parser.add_argument(
        "--connections", type=int, default=2, help="concurrent connections (default: 2 workers)"
    )
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--phases", default="cold,warm", help="cold, warm or both")
    parser.add_argument("--reseed", action="store_true", help="drop and rebuild the bench DB")
    parser.add_argument(
        "--no-images",
        action="store_true",
        help="measure products without images (by default each has one, with 3 renditions)",
    )
    parser.add_argument(
        "--place-buyers",
        type=int,
        default=buyers.POOLS["place"],
        help="buyers with a full cart per phase; each places one order at most",
    )
    parser.add_argument(
        "--output", type=Path, default=config.RESULTS_DIR / "latest.json", help="JSON results"
    )
    args = parser.parse_args(argv)
    if args.loadgen == "auto":
        args.loadgen = "wrk" if loadgen.wrk_path() else "python"
    elif args.loadgen == "wrk" and not loadgen.wrk_path():
        parser.error("wrk is not installed (apt-get install -y wrk), or use --loadgen python")
    if args.rounds < 1 or args.duration < args.rounds or args.connections < 1:
        parser.error("need --rounds >= 1, --duration >= --rounds and --connections >= 1")
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not args.phases or set(args.phases) - {"cold", "warm"}:
        parser.error("--phases takes cold, warm or cold,warm")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    # Ctrl-C raises KeyboardInterrupt even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)
    config.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    config.setup_django(page_cache_seconds=0)
    started = time.monotonic()

    counts = seed.ensure_seeded(reseed=args.reseed, with_images=not args.no_images)
    prepare()
    flush_cache()
    paths = build_paths()
    files = {}
    for page, urls in paths.items():
        files[page] = config.RESULTS_DIR / f"paths-{page}.txt"
        files[page].write_text("\n".join(urls) + "\n")
    hits = search_hits()
    queries = query_counts(paths)
    feeds = buyers.prepare(place_buyers=args.place_buyers)
    queries.update(buyer_query_counts(feeds))
    from django.db import connections

    connections.close_all()  # the bench's own process holds no connection while measuring
    print(
        f"{len(paths['list'])} list URLs, {len(paths['search'])} search URLs, "
        f"{len(paths['product'])} product URLs; search hits {hits}; buyers: "
        f"{len(feeds['cart'].requests)} carts of {buyers.CART_LINES} lines shown, "
        f"{len(feeds['add'].requests)} additions, {args.place_buyers} carts to place per phase"
    )
    print(f"SQL queries per page (most of a sample; cold / warm): {queries}")
    print(
        f"gunicorn: 2 {args.worker_class} workers"
        + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
        + f"; load: {args.loadgen}, {args.connections} connections, "
        f"{args.duration:g} s per page in {args.rounds} interleaved rounds, "
        f"after {args.warmup:g} s warm-up"
    )

    rows: list[dict] = []
    placing: dict[str, dict] = {}
    server: Server | None = None
    try:
        for phase in args.phases:
            feeds = buyers.prepare(place_buyers=args.place_buyers)
            placed_before = buyers.placed_orders()
            connections.close_all()
            flush_cache()
            others = busy_cpus()
            if others is not None and others > 0.3:
                print(
                    f"Warning: other processes keep {others:.1f} of {os.cpu_count()} CPUs busy "
                    f"before the {phase} phase; absolute figures will be low and noisy.",
                    flush=True,
                )
            server = Server(
                phase=phase,
                page_cache_seconds=0 if phase == "cold" else WARM_CACHE_SECONDS,
                worker_class=args.worker_class,
                threads=args.threads,
            )
            server.start()
            check_pages(server, paths, files)
            check_buyer_pages(server, feeds)
            keys = fragment_keys()
            pages = sum(len(urls) for page, urls in paths.items() if page != "minimal")
            if phase == "warm" and keys < pages:
                raise SystemExit(f"warm phase: only {keys} fragments cached after the warm pass")
            if phase == "cold" and keys:
                raise SystemExit(f"cold phase: {keys} fragments cached with the cache off")
            print(f"\n[{phase}] server on {server.base_url}, {keys} fragments cached", flush=True)
            results = run_phase(server, files, paths, args, feeds)
            server.stop()
            placing[phase] = {
                "requests_sent_at_most": feeds["place"].used,
                "orders_placed": buyers.placed_orders() - placed_before,
            }
            connections.close_all()
            for page in PAGES:
                result = results[page]
                # Each round's page against the same round's minimal view, then the median.
                ratio = statistics.median(
                    rps / minimal
                    for rps, minimal in zip(
                        result["rounds_rps"], results["minimal"]["rounds_rps"], strict=True
                    )
                )
                target, met = verdict(page, phase, result, ratio, queries[page][phase])
                rows.append(
                    {
                        "page": page,
                        "phase": phase,
                        **result,
                        "ratio": ratio,
                        "target": target,
                        "met": met,
                        "queries": queries[page][phase],
                        "urls": len(paths[page]) if page in paths else len(feeds[page].requests),
                        "busy_cpus_before": others,
                    }
                )
    except (KeyboardInterrupt, Stop):
        print("\nInterrupted; stopping gunicorn.", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        if server is not None:
            server.stop()

    print()
    print(f"Orders placed by the place pool: {placing}")
    print_table(rows)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "server": {"workers": 2, "worker_class": args.worker_class, "threads": args.threads},
        "load": {
            "generator": args.loadgen,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "warmup_s": args.warmup,
        },
        "catalog": counts,
        "urls": {page: len(urls) for page, urls in paths.items()},
        "search_hits": hits,
        "queries_per_page": queries,
        "placing": placing,
        "results": rows,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    missed = [f"{r['page']}/{r['phase']}" for r in rows if r["met"] is False]
    print(f"\nWritten to {args.output}. " + (f"Missed: {', '.join(missed)}" if missed else ""))


if __name__ == "__main__":
    main()
