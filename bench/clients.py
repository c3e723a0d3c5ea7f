"""Candidate HTTP clients for the per-event POST, against aiohttp, printed in one run.

    .venv/bin/python bench/clients.py [--quick] [--rounds N] [--only NAME ...] [--exit-runs N]

Starts a loopback receiver (Debian's nginx from a config in a temporary directory when
/usr/sbin/nginx exists, answering `200 ok` to any POST; else bench/_receiver.py), then for
each installed candidate of bench/_clients.py runs a bare POST loop, CONCURRENCY requests in
flight, with the bodies and headers auditwire sends, each run in a child process of its own.
The runs are interleaved with aiohttp's (aiohttp, A, aiohttp, B, ..., aiohttp), so that each
candidate is compared with the aiohttp runs just before and after it on a shared machine;
printed are requests/s and the child process's CPU time per request (all its threads), as
ratios to aiohttp's, the median over the rounds. A child that does not exit with 0 after
closing its client is reported: a clean shutdown is one of the guarantees. `--exit-runs`
also runs each candidate a few times without closing its client, to see whether the
interpreter's exit survives an unclosed client.

Every run is bounded in requests and in time; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _clients

NGINX = "/usr/sbin/nginx"
WARM_UP = 400  # requests before the clock starts: connections opened, code paths warm
RUN_LIMIT = 30.0  # seconds a child may take, start-up and warm-up included
READY_LIMIT = 10.0  # seconds the receiver may take to accept connections
EXIT_RUN_REQUESTS = 200  # requests of one unclosed-client exit run
LEFT_OPEN: list[object] = []  # clients of --no-close runs, dropped at interpreter exit
NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type text/plain;
            return 200 "ok";
        }}
    }}
}}
"""


# The receiver --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_accepting(port: int) -> None:
    deadline = time.monotonic() + READY_LIMIT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def nginx() -> Iterator[str]:
    """A loopback nginx answering `200 ok`; its URL. Stopped (SIGQUIT, then killed) after."""
    with tempfile.TemporaryDirectory(prefix="auditwire-nginx-") as tmp:
        os.chmod(tmp, 0o755)
        port = free_port()
        conf = Path(tmp, "nginx.conf")
        conf.write_text(NGINX_CONF.format(dir=tmp, port=port))
        process = subprocess.Popen(
            [NGINX, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_accepting(port)
            yield f"http://127.0.0.1:{port}/hook/0"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def python_receiver() -> Iterator[str]:
    """bench/_receiver.py in a process of its own; its URL."""
    from delivery import ReceiverProcess

    with ReceiverProcess() as receiver:
        yield receiver.url()


# One child run -------------------------------------------------------------------------


def auditwire_requests(count: int) -> list[tuple[bytes, dict[str, str]]]:
    """The bodies and headers of `count` deliveries, as auditwire's sender builds them."""
    from auditwire.domain.signing import new_signing_secret, sign, signing_key
    from auditwire.streaming.sinks.http import EVENT_TYPE_HEADER, TOKEN_HEADER, USER_AGENT
    from delivery import event, stored

    key = signing_key(new_signing_secret())
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    fixed = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TOKEN_HEADER: "bench-token-0123456789ab",
    }
    built = []
    for n in range(count):
        body = stored(event(n), n, now).stream_body()
        headers = dict(fixed)
        headers[EVENT_TYPE_HEADER] = "user_signed_in"
        headers["webhook-id"] = str(n)
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = sign(key, str(n), timestamp, body)
        built.append((body, headers))
    return built


async def child(name: str, url: str, count: int, close: bool) -> dict[str, object]:
    candidate = _clients.CANDIDATES[name]
    requests = auditwire_requests(WARM_UP + count)
    post, close_client = await candidate.open()
    await _clients.run_loop(post, url, requests[:WARM_UP])
    started, cpu = time.perf_counter(), time.process_time()
    statuses = await _clients.run_loop(post, url, requests[WARM_UP:])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if close:
        await close_client()
    else:  # reachable until the interpreter finalizes, as a forgotten client would be
        LEFT_OPEN.append(post)
    return {
        "requests": count,
        "seconds": elapsed,
        "cpu": cpu,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def run_child(name: str, url: str, count: int, close: bool = True) -> dict[str, object]:
    """One measured run in a fresh interpreter; its figures, its exit code, its last error."""
    command = [sys.executable, __file__, "--child", name, "--url", url, "--count", str(count)]
    if not close:
        command.append("--no-close")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_LIMIT)
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {RUN_LIMIT:.0f} s", "returncode": None}
    result: dict[str, object] = {"returncode": done.returncode}
    lines = done.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        result.update(json.loads(lines[-1]))
    else:
        result["error"] = "no result"
    fatal = [line for line in done.stderr.splitlines() if "Fatal Python error" in line]
    if fatal:
        result["fatal"] = fatal[0].strip()
    elif done.returncode != 0:
        result["stderr"] = (done.stderr.strip().splitlines() or [""])[-1][:200]
    return result


# The comparison ------------------------------------------------------------------------


def ok(run: dict[str, object]) -> bool:
    statuses = run.get("statuses")
    return isinstance(statuses, dict) and set(statuses) == {"200"} and "requests" in run


def rate(run: dict[str, object]) -> float:
    return float(run["requests"]) / float(run["seconds"])  # type: ignore[arg-type]


def cpu(run: dict[str, object]) -> float:
    return float(run["cpu"]) / float(run["requests"])  # type: ignore[arg-type]


def exit_note(run: dict[str, object]) -> str | None:
    if run.get("returncode") == 0:
        return None
    why = run.get("fatal") or run.get("error") or run.get("stderr") or ""
    return f"exit {run.get('returncode')}: {why}"


def compare(url: str, names: list[str], count: int, rounds: int) -> None:
    ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    absolute: dict[str, list[tuple[float, float]]] = {name: [] for name in ["aiohttp", *names]}
    exits: dict[str, list[str]] = {name: [] for name in ["aiohttp", *names]}
    for _round in range(rounds):
        before = run_child("aiohttp", url, count)
        for name in names:
            run = run_child(name, url, count)
            after = run_child("aiohttp", url, count)
            for label, measured in (("aiohttp", before), (name, run), ("aiohttp", after)):
                if note := exit_note(measured):
                    exits[label].append(note)
            if not (ok(run) and ok(before) and ok(after)):
                print(f"  {name}: run not usable: {_summary(run)}")
                before = after
                continue
            reference_rate = (rate(before) + rate(after)) / 2
            reference_cpu = (cpu(before) + cpu(after)) / 2
            ratios[name].append((rate(run) / reference_rate, cpu(run) / reference_cpu))
            absolute[name].append((rate(run), cpu(run)))
            absolute["aiohttp"].append((reference_rate, reference_cpu))
            before = after
    print(f"\n{count:,} requests per run, {_clients.CONCURRENCY} in flight, {rounds} round(s):")
    print(f"{'client':<14}{'req/s ratio':>12}{'CPU/req ratio':>15}   (median; per-round ratios)")
    for name in names:
        pairs = ratios[name]
        if not pairs:
            print(f"{name:<14}{'-':>12}{'-':>15}   no usable run")
            continue
        speed = statistics.median(p[0] for p in pairs)
        cost = statistics.median(p[1] for p in pairs)
        each = ", ".join(f"{p[0]:.2f}/{p[1]:.2f}" for p in pairs)
        print(f"{name:<14}{speed:>12.2f}{cost:>15.2f}   {each}")
    if absolute["aiohttp"]:
        top = statistics.median(a[0] for a in absolute["aiohttp"])
        spent = statistics.median(a[1] for a in absolute["aiohttp"])
        print(
            f"(aiohttp itself, median of its runs on this noisy machine: {top:,.0f} req/s, "
            f"{spent * 1e6:.0f} µs CPU/request)"
        )
    for name, notes in exits.items():
        if notes:
            print(f"{name}: {len(notes)} run(s) did not exit cleanly after closing: {notes[0]}")


def exit_check(url: str, names: list[str], runs: int) -> None:
    """Each candidate `runs` times with its client left open at interpreter exit."""
    print(f"\nexit with the client left open, {runs} run(s) each of {EXIT_RUN_REQUESTS} requests:")
    for name in names:
        results = [run_child(name, url, EXIT_RUN_REQUESTS, close=False) for _ in range(runs)]
        bad = [note for r in results if (note := exit_note(r))]
        print(f"  {name}: {runs - len(bad)}/{runs} clean" + (f"; first: {bad[0]}" if bad else ""))


def _summary(run: dict[str, object]) -> str:
    keys = ("statuses", "error", "fatal", "stderr", "returncode")
    return ", ".join(f"{k}={run[k]}" for k in keys if k in run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, one round")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of interleaved runs")
    parser.add_argument("--count", type=int, default=None, help="requests per run")
    parser.add_argument("--only", action="append", default=[], help="a candidate to run")
    parser.add_argument("--exit-runs", type=int, default=0, help="unclosed-client exit runs")
    parser.add_argument("--python-receiver", action="store_true", help="skip nginx")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--no-close", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        measured = child(arguments.child, arguments.url, arguments.count, not arguments.no_close)
        try:  # the loop auditwire serves on
            import uvloop
        except ImportError:
            result = asyncio.run(measured)
        else:
            result = uvloop.run(measured)
        print(json.dumps(result), flush=True)
        return

    count = arguments.count or (2_000 if arguments.quick else 6_000)
    rounds = arguments.rounds or (1 if arguments.quick else 3)
    wanted = arguments.only or [n for n in _clients.CANDIDATES if n != "aiohttp"]
    names = []
    for name in wanted:
        candidate = _clients.CANDIDATES[name]
        if _clients.installed(candidate):
            names.append(name)
        else:
            print(f"{name}: not installed, skipped (pip install {candidate.package})")
    use_nginx = shutil.which(NGINX) is not None and not arguments.python_receiver
    receiver = nginx() if use_nginx else python_receiver()
    print(
        f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; receiver: "
        + ("nginx" if use_nginx else "bench/_receiver.py")
    )
    with receiver as url:
        compare(url, names, count, rounds)
        if arguments.exit_runs:
            exit_check(url, ["aiohttp", *names], arguments.exit_runs)


if __name__ == "__main__":
    main()
