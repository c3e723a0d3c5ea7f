"""CPU cost per request of the S3 and Google Cloud Logging sinks against a bare aiohttp POST.

    .venv/bin/python bench/sinks.py [--requests N]

Starts a receiver on 127.0.0.1 in a process of its own (its CPU is not counted), then
measures this process's CPU time (time.process_time) per request for:
  1. a bare aiohttp POST of the event body (the ceiling every sink builds on);
  2. SigV4 signing alone (botocore's S3SigV4Auth over an AWSRequest);
  3. building a Cloud Logging request with a cached token (cache look-up and entry JSON);
  4. S3Sink.send and GcpSink.send end to end (the token minted once, before measuring).
Every loop is bounded in count; the receiver answers 200 at once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection

import aiohttp
import orjson
from aiohttp import web
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from auditwire.domain.events import AuditEvent
from auditwire.streaming.sinks import GcpSink, S3Sink

CONCURRENCY = 16  # requests in flight in the end-to-end loops
START_TIMEOUT = 10.0  # seconds the receiver may take to start


def _receiver(conn: Connection) -> None:
    async def ok(_request: web.Request) -> web.Response:
        return web.Response(text="{}", content_type="application/json")

    async def token(_request: web.Request) -> web.Response:
        return web.json_response({"access_token": "bench", "expires_in": 3600})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/token", token)
        app.router.add_route("*", "/{tail:.*}", ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await runner.cleanup()

    asyncio.run(main())


def _event(n: int) -> AuditEvent:
    return AuditEvent(
        id=n,
        event_type="update_approval_rules",
        author_id=1,
        author_name="Administrator",
        entity_type="Group",
        entity_id=22,
        entity_path="gitlab-org",
        target_id=7,
        target_type="ApprovalProjectRule",
        target_details="All Members",
        ip_address="203.0.113.9",
        details={"custom_message": "bench", "entity_path": "gitlab-org"},
        created_at=datetime.now(UTC),
        stream_only=False,
        root_group_id=22,
    )


async def _cpu_per_call(count: int, call: Callable[[int], Awaitable[object]]) -> float:
    """Seconds of this process's CPU per call, with CONCURRENCY calls in flight."""
    queue = iter(range(count))

    async def lane() -> None:
        for n in queue:
            await call(n)

    started = time.process_time()
    await asyncio.gather(*(lane() for _ in range(CONCURRENCY)))
    return (time.process_time() - started) / count


def _cpu_per_sync_call(count: int, call: Callable[[int], object]) -> float:
    started = time.process_time()
    for n in range(count):
        call(n)
    return (time.process_time() - started) / count


async def run(requests: int, base: str) -> None:
    body = _event(1).stream_body()
    async with aiohttp.ClientSession() as session:

        async def bare(_n: int) -> None:
            async with session.post(f"{base}/bare", data=body) as response:
                await response.read()

        await _cpu_per_call(100, bare)  # warm the pool
        bare_cpu = await _cpu_per_call(requests, bare)

    signer = S3SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", "secret"), "s3", "us-east-1")

    def sign(n: int) -> None:
        url = f"{base}/bucket/group/2026/11/update_approval_rules_{n}_1.json"
        request = AWSRequest(
            method="PUT", url=url, data=body, headers={"Content-Type": "application/json"}
        )
        signer.add_auth(request)

    sign_cpu = _cpu_per_sync_call(requests, sign)

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    gcp = GcpSink(token_url=f"{base}/token", logging_url=f"{base}/v2/entries:write")
    s3 = S3Sink(allow_local_requests=True)
    await gcp.start()
    await s3.start()
    try:
        gcp_target = gcp.prepare({"googleProjectIdName": "my-project", "clientEmail": "a@b.c"}, pem)
        s3_target = s3.prepare(
            {
                "accessKeyXid": "AKIAIOSFODNN7EXAMPLE",
                "bucketName": "bucket",
                "awsRegion": "us-east-1",
                "endpointUrl": base,
            },
            "secret",
        )
        events = [_event(n) for n in range(requests)]
        bodies = [event.stream_body() for event in events]
        await gcp.send(gcp_target, events[0], bodies[0])  # mints the token once

        cache_key = (gcp_target.client_email, gcp_target.private_key)

        async def never_mint() -> tuple[str, float]:
            raise AssertionError("the token is cached")

        async def build_gcp(n: int) -> None:
            token = await gcp._tokens.get(cache_key, never_mint)
            entry = {
                "logName": gcp_target.log_name,
                "resource": {"type": "global"},
                "severity": "INFO",
                "jsonPayload": orjson.Fragment(bodies[n]),
            }
            orjson.dumps({"entries": [entry]})
            _ = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        build_cpu = await _cpu_per_call(requests, build_gcp)
        s3_cpu = await _cpu_per_call(requests, lambda n: s3.send(s3_target, events[n], bodies[n]))
        gcp_cpu = await _cpu_per_call(
            requests, lambda n: gcp.send(gcp_target, events[n], bodies[n])
        )
    finally:
        await gcp.close()
        await s3.close()

    def line(name: str, cpu: float) -> None:
        print(f"{name:<44} {cpu * 1e6:8.1f} µs CPU  {cpu / bare_cpu:5.2f}x bare POST")

    print(f"{requests} requests each, {CONCURRENCY} in flight, body {len(body)} bytes")
    line("bare aiohttp POST", bare_cpu)
    line("SigV4 signing alone (botocore)", sign_cpu)
    line("GCP request building, cached token", build_cpu)
    line("S3Sink.send end to end", s3_cpu)
    line("GcpSink.send end to end", gcp_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_receiver, args=(theirs,), daemon=True)
    receiver.start()
    if not ours.poll(START_TIMEOUT):
        raise SystemExit("the receiver did not start")
    port = ours.recv()
    try:
        asyncio.run(run(args.requests, f"http://127.0.0.1:{port}"))
    finally:
        ours.send("stop")
        receiver.join(START_TIMEOUT)


if __name__ == "__main__":
    main()
