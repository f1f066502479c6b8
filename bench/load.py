"""Load benchmark: signed-in partners on gunicorn + PostgreSQL + Redis, beside a bare view.

    DATABASE_URL=postgres://user@127.0.0.1:5432/hub_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/load.py [--users 50] [--levels 20,50] [--seconds 10]

What it does:
1. migrates the database, collects static files, seeds a partner, `--users` partner users with
   open sessions (made directly in the session store, like a login would), a small registry and
   a few requests — all re-runnable;
2. starts `gunicorn -w 4` with production settings (DEBUG off; plain http on loopback, so no
   HTTPS redirect and no secure-only cookies), serving the product's URLs plus one bench-only
   view, `/bench/bare/`, added by this module's own WSGI entry — the product has no such view;
3. for each concurrency level, drives three scenarios for `--seconds` each (after 2 s of
   unmeasured warm-up), with keep-alive HTTP clients (threads in a few processes; gunicorn's
   sync workers close the connection after each response, so the clients reconnect), every
   client signed in as its own user:
   `bare` (GET /bench/bare/); `check`, a check as the page sends it: POST /eligibility/check/
   with the CSRF token from the page's own script (htmx), answered with the form, the answer and
   the new line of the recent checks; `check-page`, the same POST without the script (the whole
   page again, as a browser without JavaScript gets it); and `requests` (GET /requests/);
   prints requests/s, p50/p95/p99 and errors. Users send their
   requests back to back unless `--think SECONDS` makes each wait between two requests (a
   closed loop: at N users and no think time, latency ≈ N / throughput).

Why a bench-only view rather than /healthz as the baseline: /healthz does real work (a database
query, a cache round trip and, with Redis, a new broker connection each call), so it is not
"bare". `/bench/bare/` returns a constant through the whole middleware stack (sessions, auth,
CSRF, CSP, request ID) for the same signed-in users: the cost of serving any page at all.

Targets: the check page keeps ≥ 50% of the bare throughput, p95 < 100 ms at 20 users, and no
errors. Run it against a database of its own: it writes real rows (users, checks).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PARTNER_NAME = "Bench Load Partner"
USER_EMAIL = "bench-load-{n}@bench.example"
PASSWORD = "bench-load-password-1"  # noqa: S105 - throwaway users in a bench database
REGISTRY_SIZE = 300
SCENARIOS = ("bare", "check", "check-page", "requests")
WARMUP_SECONDS = 2.0
PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"

# The settings gunicorn runs with: production, minus HTTPS (plain http on loopback).
SERVER_ENV = {
    "DEBUG": "0",
    "HUB_TESTING": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": f"{HOST},localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


# --- The bench-only WSGI entry: the product's URLs plus /bench/bare/ ----------------------------


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def wsgi_application():
    """gunicorn `load:wsgi_application()` — the product's WSGI app with this module's URLs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    if os.environ.get("BENCH_PLAIN_STATIC") == "1":
        settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC}}
    application = get_wsgi_application()
    globals()["urlpatterns"] = [path("bench/bare/", bare), path("", include("config.urls"))]
    settings.ROOT_URLCONF = __name__
    return application


# --- Setup ------------------------------------------------------------------------------------


def setup_django() -> None:
    for key, value in SERVER_ENV.items():
        os.environ.setdefault(key, value)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def collect_static() -> bool:
    """Collect static files as a deployment would; False when that fails.

    The pages only name static files (the benchmark fetches none), so on failure the server
    runs with plain static storage instead of the hashed manifest: same pages, same work.
    """
    from django.core.management import call_command

    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except Exception as exc:  # noqa: BLE001 - reported, then worked around
        print(
            f"WARNING: collectstatic failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}); serving with plain static storage.",
            flush=True,
        )
        return False
    return True


def prepare_database(users: int) -> list[str]:
    """Migrate, seed, and return one session key per user (signed in as that user)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.db import connection, transaction
    from stdnum.br import cnpj

    from accounts.models import Partner, User
    from eligibility.models import Company
    from requests_app.models import PartnerRequest, RequestKind, RequestStatus

    call_command("migrate", interactive=False, verbosity=0)

    with transaction.atomic():
        partner, _ = Partner.objects.get_or_create(
            name=PARTNER_NAME,
            defaults={"tier": Partner.Tier.PREMIUM, "allows_referral": True, "home_country": "BR"},
        )
        for i in range(REGISTRY_SIZE):
            base = f"{90_000_000 + i:08d}0001"
            status = Company.Status.CLIENT if i % 3 == 0 else Company.Status.PROSPECT
            Company.objects.get_or_create(
                country="BR",
                tax_id=base + cnpj.calc_check_digits(base),
                defaults={"legal_name": f"Bench load company {i}", "status": status},
            )
        companies = list(
            Company.objects.filter(legal_name__startswith="Bench load company").order_by("pk")[:30]
        )
        for i, company in enumerate(companies):
            PartnerRequest.objects.get_or_create(
                reference=f"RH-{9_000_000 + i}",
                defaults={
                    "kind": RequestKind.UPSELL,
                    "status": RequestStatus.SUBMITTED,
                    "partner": partner,
                    "company": company,
                    "protection_key": f"BR:{company.root}",
                    "business_model": "reseller",
                    "company_name": company.legal_name,
                },
            )
        accounts = []
        for n in range(users):
            user, created = User.objects.get_or_create(
                email=USER_EMAIL.format(n=n),
                defaults={"partner": partner, "full_name": f"Bench User {n}"},
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            accounts.append(user)

    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would give a long-running database.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    session_store = import_module(settings.SESSION_ENGINE).SessionStore  # the project's own
    session_keys = []
    for user in accounts:
        session = session_store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        session_keys.append(session.session_key)
    return session_keys


def check_inputs() -> list[dict[str, str]]:
    """What the partners type: registry hits (client/prospect), new companies, typos."""
    from stdnum.br import cnpj

    inputs = []
    for i in range(200):
        if i % 4 == 3:
            inputs.append({"country": "BR", "tax_id": f"12.345.678/0001-{i % 100:02d}"})
            continue
        root = 90_000_000 + (i * 7) % REGISTRY_SIZE if i % 4 < 2 else 80_000_000 + i
        base = f"{root:08d}0001"
        inputs.append(
            {
                "country": "BR",
                "tax_id": cnpj.format(base + cnpj.calc_check_digits(base)),
                "company_name": f"Load {i}",
            }
        )
    return inputs


# --- Server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, *, plain_static: bool) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "BENCH_PLAIN_STATIC": "1" if plain_static else "0"}
    command = [
        str(BASE_DIR / ".venv" / "bin" / "gunicorn"),
        "load:wsgi_application()",
        "--pythonpath",
        f"{BENCH_DIR},{BASE_DIR}",
        "--chdir",
        str(BASE_DIR),
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/bench/bare/")
            if conn.getresponse().status in {200, 302}:
                return server
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(server)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_gunicorn(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# --- Client -----------------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """One signed-in partner with a keep-alive connection (reopened when the server closes)."""

    def __init__(self, port: int, session_key: str):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies = {"sessionid": session_key}
        self.csrf_token = ""

    def request(
        self, method: str, url: str, body: str | None = None, *, htmx: bool = False
    ) -> tuple[int, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": HOST}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:  # what htmx adds to the requests it sends
            headers.update({"HX-Request": "true", "HX-Target": "check-answer"})
        try:
            self.conn.request(method, url, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # reconnect on the next call
            raise
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
        return response.status, content

    def sign_in_check_page(self) -> None:
        status, content = self.request("GET", "/eligibility/check/")
        match = _TOKEN.search(content.decode("utf-8", "replace"))
        if status != 200 or not match:
            raise RuntimeError(f"check page answered {status} without a CSRF token")
        self.csrf_token = match.group(1)


def _answered(scenario: str, content: bytes) -> bool:
    """Whether a check's answer is the one the scenario asked for (fragment or whole page)."""
    if scenario == "check":
        return b"data-eligibility" in content and b"<html" not in content
    if scenario == "check-page":
        return b"data-eligibility" in content and b"<html" in content
    return True


def _worker(port, session_keys, scenario, seconds, think, inputs, start_at, results):
    """One client process: a thread per session; sends its latencies and errors back.

    The first WARMUP_SECONDS after `start_at` are traffic too but are not measured: gunicorn's
    workers import, compile templates and open connections on their first requests.
    """
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(index: int, session_key: str):
        client = Client(port, session_key)
        local, bad = [], []
        try:
            if scenario.startswith("check"):
                client.sign_in_check_page()
        except Exception as exc:  # noqa: BLE001 - a failed warm-up is counted as an error
            bad.append(f"warm-up: {exc}")
        n = index
        # With think time, users start spread over one think period instead of all at once.
        first = start_at + (think * index / len(session_keys) if think else 0)
        while time.time() < first:
            time.sleep(0.001)
        measure_from = start_at + WARMUP_SECONDS
        deadline = measure_from + seconds
        while time.time() < deadline:
            if scenario == "bare":
                method, url, body, expected = "GET", "/bench/bare/", None, 200
            elif scenario == "requests":
                method, url, body, expected = "GET", "/requests/", None, 200
            else:
                fields = {**inputs[n % len(inputs)], "csrfmiddlewaretoken": client.csrf_token}
                method, url, body, expected = "POST", "/eligibility/check/", urlencode(fields), 200
            n += 1
            measured = time.time() >= measure_from
            started = time.perf_counter()
            try:
                status, content = client.request(method, url, body, htmx=scenario == "check")
            except Exception as exc:  # noqa: BLE001
                bad.append(type(exc).__name__)  # errors count in the warm-up too
                continue
            elapsed = time.perf_counter() - started
            if status != expected or not _answered(scenario, content):
                bad.append(f"HTTP {status}")
            elif measured:
                local.append(elapsed)
            if think:
                time.sleep(think)
        with lock:
            latencies.extend(local)
            errors.extend(bad)

    threads = [threading.Thread(target=run, args=(i, key)) for i, key in enumerate(session_keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, errors))


def run_scenario(port, session_keys, scenario, seconds, think, processes, inputs) -> tuple:
    """One run of one scenario: the measured latencies (seconds) and the errors."""
    results = multiprocessing.Queue()
    groups = [session_keys[i::processes] for i in range(processes)]
    start_at = time.time() + 2.0  # let every process and thread get ready first
    workers = [
        multiprocessing.Process(
            target=_worker,
            args=(port, group, scenario, seconds, think, inputs, start_at, results),
        )
        for group in groups
        if group
    ]
    for worker in workers:
        worker.start()
    latencies, errors = [], []
    for _ in workers:
        got_latencies, got_errors = results.get(timeout=WARMUP_SECONDS + seconds + 120)
        latencies.extend(got_latencies)
        errors.extend(got_errors)
    for worker in workers:
        worker.join()
    return latencies, errors


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def summarise(scenario, users, seconds, latencies, errors) -> dict:
    ordered = sorted(latencies)
    return {
        "scenario": scenario,
        "users": users,
        "requests": len(ordered),
        "rps": len(ordered) / seconds,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p95_ms": percentile(ordered, 95) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "mean_ms": (statistics.fmean(ordered) * 1000) if ordered else float("nan"),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
    }


# --- Main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="signed-in partner users")
    parser.add_argument("--levels", default="20,50", help="concurrent users, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each scenario")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each user waits between requests (0: back to back, the default)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of every scenario, taken in turn (figures pool the rounds)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=2,
        help="client processes (threads are spread over them)",
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--output", help="also write the results as JSON to this file")
    args = parser.parse_args()

    levels = [int(level) for level in args.levels.split(",") if level.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if not levels or min(levels) < 1 or args.users < max(levels):
        parser.error("--levels must be positive and at most --users")
    if set(scenarios) - set(SCENARIOS) or args.seconds <= 0 or args.think < 0 or args.rounds < 1:
        parser.error(f"--scenarios is a list of {', '.join(SCENARIOS)}; --seconds must be > 0")
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            parser.error(f"{name} must be set (the benchmark runs on PostgreSQL and Redis)")

    setup_django()
    print(f"Preparing the database and {args.users} signed-in users…", flush=True)
    session_keys = prepare_database(args.users)
    static_collected = collect_static()
    inputs = check_inputs()
    port = free_port()
    server = start_gunicorn(port, args.workers, plain_static=not static_collected)
    results = []
    try:
        print(
            f"gunicorn -w {args.workers} on http://{HOST}:{port}; {args.rounds} rounds of "
            f"{args.seconds:g} s per scenario; think time {args.think:g} s; {os.cpu_count()} "
            "CPUs shared by server and clients\n",
            flush=True,
        )
        print(
            f"{'users':>5} {'scenario':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'errors':>6}  req/s by round"
        )
        for level in levels:
            # Rounds alternate the scenarios, so a slower spell of a shared machine weighs on
            # all of them alike rather than on whichever ran then.
            latencies = {scenario: [] for scenario in scenarios}
            errors = {scenario: [] for scenario in scenarios}
            rounds = {scenario: [] for scenario in scenarios}
            for _round in range(args.rounds):
                for scenario in scenarios:
                    got_latencies, got_errors = run_scenario(
                        port,
                        session_keys[:level],
                        scenario,
                        args.seconds,
                        args.think,
                        min(args.client_processes, level),
                        inputs,
                    )
                    latencies[scenario] += got_latencies
                    errors[scenario] += got_errors
                    rounds[scenario].append(len(got_latencies) / args.seconds)
            for scenario in scenarios:
                row = summarise(
                    scenario,
                    level,
                    args.seconds * args.rounds,
                    latencies[scenario],
                    errors[scenario],
                )
                row["rps_by_round"] = rounds[scenario]
                results.append(row)
                print(
                    f"{level:>5} {scenario:<10} {row['rps']:>8.1f} {row['p50_ms']:>8.1f} "
                    f"{row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['errors']:>6}"
                    f"  {' '.join(f'{rps:.0f}' for rps in rounds[scenario])}"
                    + (f"  {row['error_kinds']}" if row["errors"] else ""),
                    flush=True,
                )
    finally:
        stop_gunicorn(server)

    verdicts = verdict(results, compare_throughput=not args.think)
    print()
    for line in verdicts["lines"]:
        print(line)
    if args.output:
        Path(args.output).write_text(json.dumps({"results": results, **verdicts}, indent=2))
    return 0 if verdicts["ok"] else 1


def verdict(results: list[dict], *, compare_throughput: bool = True) -> dict:
    by_key = {(r["users"], r["scenario"]): r for r in results}
    lines, ok = [], True
    for (users, scenario), row in sorted(by_key.items()):
        if row["errors"]:
            ok = False
            lines.append(f"FAIL {users} users {scenario}: {row['errors']} errors")
    check, bare_row = by_key.get((20, "check")), by_key.get((20, "bare"))
    if check and bare_row and compare_throughput:
        # Each round's check beside the same round's bare view, then the median round.
        shares = [
            check_rps / bare_rps if bare_rps else 0
            for check_rps, bare_rps in zip(
                check.get("rps_by_round", [check["rps"]]),
                bare_row.get("rps_by_round", [bare_row["rps"]]),
                strict=True,
            )
        ]
        share = statistics.median(shares)
        passed = share >= 0.5
        ok &= passed
        lines.append(
            f"{'PASS' if passed else 'FAIL'} check throughput at 20 users is "
            f"{share:.0%} of bare, median of {len(shares)} rounds "
            f"({', '.join(f'{s:.0%}' for s in shares)}) (target ≥ 50%)"
        )
    if check:
        passed = check["p95_ms"] < 100
        ok &= passed
        lines.append(
            f"{'PASS' if passed else 'FAIL'} check p95 at 20 users is "
            f"{check['p95_ms']:.1f} ms (target < 100 ms)"
        )
    return {"ok": ok, "lines": lines}


if __name__ == "__main__":
    sys.exit(main())
