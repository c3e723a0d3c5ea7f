"""The per-event sink's own HTTP client against raw loopback servers that misbehave on
purpose: trickling, closing mid-answer, chunked, `Connection: close`, huge answers, 1xx,
keep-alive reuse counted at the server, the resend-once rule and a clean shutdown."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from auditwire.streaming.sinks import HttpSink, Verdict
from auditwire.streaming.sinks import http as http_sink
from auditwire.streaming.sinks._wire import Origin, WireClient, WireError
from auditwire.streaming.sinks.base import Answer
from tests.integration.streaming.factories import eventually

BOUND = 10.0  # seconds any one test's traffic may take at most
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass(frozen=True)
class Event:
    """Exactly what the sink may use of an event."""

    id: int
    event_type: str = "user_signed_in"


@dataclass
class Request:
    head: str
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Raw", int], Awaitable[None]]


@dataclass
class Raw:
    """A loopback server running `handler` for each connection; it counts connections,
    requests and the connections open right now."""

    handler: Handler
    connections: int = 0
    open: int = 0
    most_open: int = 0
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    async def read_request(self, reader: asyncio.StreamReader) -> Request | None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        request = Request(head, b"")
        request.body = await reader.readexactly(int(request.header("Content-Length") or 0))
        self.requests.append(request)
        return request

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self.handler(reader, writer, self, self.connections)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            writer.close()


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[Raw]:
    raw = Raw(handler)
    server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
    raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook?x=1"
    async with server, asyncio.timeout(BOUND):
        yield raw
    server.close()


def answering(*answers: bytes, then: bytes | None = OK) -> Handler:
    """Each request on a connection gets the next answer (then `then` for ever; None: close)."""

    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        queue = list(answers)
        while await raw.read_request(reader) is not None:
            answer = queue.pop(0) if queue else then
            if answer is None:
                return
            writer.write(answer)
            await writer.drain()
            if not queue and then is None:
                return

    return handler


async def mute(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
) -> None:
    """Reads whatever comes, answers nothing, until the client closes."""
    await reader.read()


@contextlib.asynccontextmanager
async def started(**options: Any) -> AsyncIterator[HttpSink]:
    sink = HttpSink(allow_local_requests=True, **options)
    await sink.start()
    try:
        yield sink
    finally:
        await sink.close()


@pytest.fixture
async def sink() -> AsyncIterator[HttpSink]:
    sink = HttpSink(allow_local_requests=True, timeout=0.3)
    await sink.start()
    yield sink
    await sink.close()


async def post(
    sink: HttpSink, url: str, n: int = 1, config: dict[str, Any] | None = None
) -> Answer:
    target = sink.prepare({"url": url, **(config or {})}, "token-0123456789abcdefghij")
    return await sink.send(target, Event(n), b'{"id": %d}' % n)


async def until(check: Callable[[], bool]) -> None:
    """Until the server's counters show `check()` (bounded by the test's BOUND)."""

    async def holds() -> bool:
        return check()

    await eventually(holds, within=BOUND)


@contextlib.asynccontextmanager
async def wire(**settings: Any) -> AsyncIterator[WireClient]:
    """A started WireClient, closed at the end; `settings` override the defaults."""
    defaults: dict[str, Any] = dict(
        timeout=1.0, total=3.0, connections=4, keepalive=30.0, body_limit=1024, guarded=False
    )
    client = WireClient(**(defaults | settings))
    await client.start()
    try:
        yield client
    finally:
        await client.close()


def port_of(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


async def test_sequential_posts_share_one_keep_alive_connection(sink: HttpSink) -> None:
    async with serve(answering()) as raw:
        answers = [await post(sink, raw.url, n) for n in range(20)]
    assert {a.verdict for a in answers} == {Verdict.DELIVERED}
    assert len(raw.requests) == 20
    assert raw.connections == 1


async def test_the_request_carries_its_headers_host_length_and_url_credentials() -> None:
    async with started() as sink, serve(answering()) as raw:
        url = raw.url.replace("http://", "http://us%20er:p%40ss@")
        headers = {"X-Team": {"value": "sec", "active": True}}
        answer = await post(sink, url, 7, {"headers": headers})
    assert answer.verdict is Verdict.DELIVERED
    (request,) = raw.requests
    port = port_of(raw.url)
    assert request.head.startswith("POST /hook?x=1 HTTP/1.1\r\n")
    assert request.header("Host") == f"127.0.0.1:{port}"
    assert request.header("Content-Length") == str(len(request.body))
    assert request.body == b'{"id": 7}'
    assert request.header("Authorization") == "Basic " + base64.b64encode(b"us er:p@ss").decode()
    assert request.header("X-Team") == "sec"
    assert request.header("X-Gitlab-Event-Streaming-Token") == "token-0123456789abcdefghij"
    assert request.header("X-Gitlab-Audit-Event-Type") == "user_signed_in"
    assert request.header("webhook-id") == "7"
    assert (request.header("webhook-signature") or "").startswith("v1,")


async def test_a_custom_header_named_like_a_per_event_one_is_not_sent_twice(
    sink: HttpSink,
) -> None:
    async with serve(answering()) as raw:
        headers = {"webhook-id": {"value": "forged", "active": True}}
        await post(sink, raw.url, 3, {"headers": headers})
    assert raw.requests[0].head.lower().count("webhook-id:") == 1
    assert raw.requests[0].header("webhook-id") == "3"


def test_a_header_with_a_line_break_is_refused_at_prepare() -> None:
    with pytest.raises(ValueError, match="line break"):
        HttpSink().prepare(
            {"url": "https://example.com/", "headers": {"X-A": {"value": "a\r\nB: c"}}}, "t" * 24
        )


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("X-A\tB", "v", "is not a header name"),
        ("X-A(B)", "v", "is not a header name"),
        ("X-\u00e9", "v", "is not a header name"),
        ("X-A", "a\x01b", "contains a control character"),
        ("X-A", "a\x7fb", "contains a control character"),
    ],
)
def test_a_header_no_receiver_could_read_is_refused_at_prepare(
    key: str, value: str, reason: str
) -> None:
    config = {"url": "https://example.com/", "headers": {key: {"value": value}}}
    with pytest.raises(ValueError, match=reason):
        HttpSink().prepare(config, "t" * 24)
    tabbed = {"url": "https://example.com/", "headers": {"X-A": {"value": "a\tb"}}}
    assert b"X-A: a\tb\r\n" in HttpSink().prepare(tabbed, "t" * 24).head


async def test_connection_close_and_http_1_0_answers_are_never_reused(sink: HttpSink) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with serve(answering(then=closing)) as raw:
        answers = [await post(sink, raw.url, n) for n in range(3)]
    assert {a.verdict for a in answers} == {Verdict.DELIVERED}
    assert raw.connections == 3
    old = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    async with serve(answering(then=old)) as raw:
        answers = [await post(sink, raw.url, n) for n in range(3)]
    assert {a.verdict for a in answers} == {Verdict.DELIVERED}
    assert raw.connections == 3


async def test_chunked_answers_are_read_whole_and_the_connection_kept(sink: HttpSink) -> None:
    chunked = (
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n5\r\nde\r\nf\r\n0\r\n\r\n"
    )
    async with serve(answering(then=chunked)) as raw:
        answers = [await post(sink, raw.url, n) for n in range(3)]
    assert [(a.verdict, a.status) for a in answers] == [(Verdict.DELIVERED, 202)] * 3
    assert raw.connections == 1


async def test_an_answer_ended_by_closing_the_connection_is_read(sink: HttpSink) -> None:
    until_close = b"HTTP/1.1 200 OK\r\n\r\nthe body ends when the connection does"
    async with serve(answering(then=until_close)) as raw:

        async def close_after_answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
        ) -> None:
            await raw.read_request(reader)
            writer.write(until_close)

        raw.handler = close_after_answer
        answers = [await post(sink, raw.url, n) for n in range(2)]
    assert {a.verdict for a in answers} == {Verdict.DELIVERED}
    assert raw.connections == 2


async def test_interim_1xx_answers_are_skipped(sink: HttpSink) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    async with serve(
        answering(interim + OK, interim + b"HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n")
    ) as raw:
        first = await post(sink, raw.url, 1)
        second = await post(sink, raw.url, 2)
    assert (first.verdict, first.status) == (Verdict.DELIVERED, 200)
    assert (second.verdict, second.status) == (Verdict.GONE, 410)
    assert raw.connections == 1


async def test_a_redirect_is_an_answer_and_never_followed(sink: HttpSink) -> None:
    redirect = b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"
    async with serve(answering(then=redirect)) as raw:
        answer = await post(sink, raw.url)
    assert (answer.verdict, answer.status, answer.detail) == (Verdict.RETRY, 302, "HTTP 302")
    assert len(raw.requests) == 1


async def test_retry_after_of_an_answer_is_kept(sink: HttpSink) -> None:
    busy = b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"
    async with serve(answering(then=busy)) as raw:
        answer = await post(sink, raw.url)
    assert answer.verdict is Verdict.RETRY and answer.status == 503
    assert answer.retry_after is not None


async def test_a_huge_answer_is_read_to_the_limit_and_its_connection_closed(
    sink: HttpSink,
) -> None:
    async def huge(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, n: int
    ) -> None:
        await raw.read_request(reader)
        if n > 1:
            writer.write(OK)
            await raw.read_request(reader)
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        for _ in range(1000):  # 64 MB at most, far past the limit
            writer.write(b"x" * 65536)
            await writer.drain()

    async with serve(huge) as raw:
        first = await post(sink, raw.url, 1)
        second = await post(sink, raw.url, 2)
        await until(lambda: raw.open == 0 or raw.connections == 2)
    assert (first.verdict, first.status) == (Verdict.DELIVERED, 200)
    assert second.verdict is Verdict.DELIVERED
    assert raw.connections == 2  # the first was closed past the limit, not reused


async def test_a_trickling_receiver_is_cut_off_by_the_total_bound(sink: HttpSink) -> None:
    async def trickle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(200):  # a byte every 50 ms: each within the read timeout of 0.3 s
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serve(trickle) as raw:
        answer = await post(sink, raw.url)
    assert (answer.verdict, answer.detail) == (Verdict.RETRY, "timed out")


async def test_a_silent_receiver_times_out(sink: HttpSink) -> None:
    async with serve(mute) as raw:
        answer = await post(sink, raw.url)
        await until(lambda: raw.open == 0)
    assert (answer.verdict, answer.detail) == (Verdict.RETRY, "timed out")


async def test_a_receiver_closing_before_or_during_its_answer_is_a_failed_attempt(
    sink: HttpSink,
) -> None:
    async with serve(answering(then=None)) as raw:
        closed = await post(sink, raw.url)
    assert closed.detail == "the server closed the connection"
    assert len(raw.requests) == 1  # a fresh connection's failure is not resent
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"
    async with serve(answering(cut, then=None)) as raw:
        truncated = await post(sink, raw.url)
    assert truncated.detail == "invalid response: ClientPayloadError"
    async with serve(answering(b"SMTP ready\r\n\r\n")) as raw:
        garbage = await post(sink, raw.url)
    assert garbage.detail == "invalid response: ClientResponseError"
    switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"
    async with serve(answering(switching)) as raw:
        upgraded = await post(sink, raw.url)
    assert upgraded.detail == "invalid response: ClientResponseError"
    assert {closed.verdict, truncated.verdict, garbage.verdict} == {Verdict.RETRY}


async def test_a_refused_connection_says_it_cannot_connect(sink: HttpSink) -> None:
    async with serve(answering()) as raw:
        url = raw.url
    answer = await post(sink, url)
    assert answer.verdict is Verdict.RETRY
    assert (answer.detail or "").startswith("cannot connect: ")
    assert "127.0.0.1" not in (answer.detail or "")


async def test_a_keep_alive_connection_closed_by_the_server_is_resent_once(
    sink: HttpSink,
) -> None:
    async def drops_second(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, n: int
    ) -> None:
        await raw.read_request(reader)
        writer.write(OK)
        await raw.read_request(reader)  # the next request on this connection: no answer

    async with serve(drops_second) as raw:
        assert (await post(sink, raw.url, 1)).verdict is Verdict.DELIVERED
        resent = await post(sink, raw.url, 2)
    assert resent.verdict is Verdict.DELIVERED
    assert [r.header("webhook-id") for r in raw.requests] == ["1", "2", "2"]
    assert raw.connections == 2


async def test_the_resend_is_not_resent_again(sink: HttpSink) -> None:
    async def drops_all_but_first(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, n: int
    ) -> None:
        await raw.read_request(reader)
        if n == 1:
            writer.write(OK)
            await raw.read_request(reader)

    async with serve(drops_all_but_first) as raw:
        await post(sink, raw.url, 1)
        answer = await post(sink, raw.url, 2)
    assert answer.detail == "the server closed the connection"
    assert [r.header("webhook-id") for r in raw.requests] == ["1", "2", "2"]


async def test_a_request_that_got_part_of_its_answer_is_not_resent(sink: HttpSink) -> None:
    partial = b"HTTP/1.1 200 OK\r\nContent-Len"
    async with serve(answering(OK, partial, then=None)) as raw:

        async def half_answer(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
        ) -> None:
            await raw.read_request(reader)
            writer.write(OK)
            await raw.read_request(reader)
            writer.write(partial)

        raw.handler = half_answer
        await post(sink, raw.url, 1)
        answer = await post(sink, raw.url, 2)
    assert answer.detail == "the server closed the connection"
    assert len(raw.requests) == 2


async def test_connections_are_bounded_and_waiting_for_one_is_timed() -> None:
    async def slow(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        while await raw.read_request(reader) is not None:
            await asyncio.sleep(0.02)
            writer.write(OK)

    async with started(connections=2, timeout=2.0) as sink, serve(slow) as raw:
        answers = await asyncio.gather(*(post(sink, raw.url, n) for n in range(12)))
    assert {a.verdict for a in answers} == {Verdict.DELIVERED}
    assert raw.most_open <= 2
    assert len(raw.requests) == 12

    async with started(connections=1, timeout=0.2) as sink, serve(mute) as raw:
        waiting = await asyncio.gather(*(post(sink, raw.url, n) for n in range(3)))
    assert [a.detail for a in waiting] == ["timed out"] * 3
    assert raw.connections == 1


async def test_a_waiter_woken_then_cancelled_passes_the_free_connection_on() -> None:
    """Three posts on one connection: the second is woken when the first ends and cancelled
    in the same loop iteration; the third must get the connection, not wait for its
    timeout."""

    async def slow(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        while await raw.read_request(reader) is not None:
            await asyncio.sleep(0.1)
            writer.write(OK)

    async with (
        wire(timeout=5.0, total=5.0, connections=1, keepalive=5.0) as client,
        serve(slow) as raw,
    ):
        origin = Origin("127.0.0.1", port_of(raw.url), False)
        request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        first = asyncio.create_task(client.post(origin, request))
        await asyncio.sleep(0.02)
        second = asyncio.create_task(client.post(origin, request))
        third = asyncio.create_task(client.post(origin, request))
        await asyncio.sleep(0.02)
        wake = client._wake

        def wake_then_cancel() -> None:  # as a timeout firing in that iteration would
            wake()
            second.cancel()
            client._wake = wake  # type: ignore[method-assign]

        client._wake = wake_then_cancel  # type: ignore[method-assign]
        assert (await first)[0] == 200
        with pytest.raises(asyncio.CancelledError):
            await second
        started_at = asyncio.get_running_loop().time()
        assert (await third)[0] == 200
        assert asyncio.get_running_loop().time() - started_at < 1.0


@pytest.mark.parametrize(
    "extra",
    [b"HTTP/1.1 2", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"],
    ids=["part of a head", "a whole second head"],
)
async def test_bytes_past_an_answer_close_its_connection(sink: HttpSink, extra: bytes) -> None:
    """A receiver that sends more than one answer to one request: the next request goes on a
    new connection, and its own answer (here a 500) is the one judged."""
    ok_then_more = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + extra

    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        while await raw.read_request(reader) is not None:  # the first request ever: 200+
            writer.write(
                ok_then_more
                if len(raw.requests) == 1
                else b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
            )
            await writer.drain()

    async with serve(handler) as raw:
        first = await post(sink, raw.url, 1)
        second = await post(sink, raw.url, 2)
    assert first.verdict is Verdict.DELIVERED
    assert (second.verdict, second.status) == (Verdict.RETRY, 500)
    assert raw.connections == 2


async def test_idle_connections_are_closed_after_the_keepalive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_sink, "KEEPALIVE", 0.1)
    async with started() as sink, serve(answering()) as raw:
        await post(sink, raw.url, 1)
        await until(lambda: raw.open == 0)  # closed by the client while idle
        await post(sink, raw.url, 2)
    assert raw.connections == 2


async def test_idle_origins_and_resolved_names_are_forgotten_once_expired() -> None:
    async with wire(keepalive=1.0, dns_ttl=1.0) as client, serve(answering()) as raw:
        for host in ("localhost", "127.0.0.1"):
            request = f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
            status, _ = await client.post(Origin(host, port_of(raw.url), False), request.encode())
            assert status == 200
        assert client.remembered == 3  # two origins' idle connections, one resolved name
        await until(lambda: client.remembered == 0)
        await until(lambda: raw.open == 0)


async def test_close_leaves_no_connection_timer_or_task() -> None:
    before = asyncio.all_tasks()
    sink = HttpSink(allow_local_requests=True, timeout=5.0)
    await sink.start()
    async with serve(answering()) as raw:
        await asyncio.gather(*(post(sink, raw.url, n) for n in range(8)))
        assert raw.open >= 1
        await sink.close()
        await until(lambda: raw.open == 0)
    assert asyncio.all_tasks() - before == set()


async def test_close_ends_a_request_in_flight_with_an_answer() -> None:
    sink = HttpSink(allow_local_requests=True, timeout=5.0)
    await sink.start()
    async with serve(mute) as raw:
        pending = asyncio.ensure_future(post(sink, raw.url))
        await until(lambda: raw.connections == 1)
        await sink.close()
        answer = await pending
        await until(lambda: raw.open == 0)
    assert answer.verdict is Verdict.RETRY


async def test_the_guard_refuses_a_name_resolving_to_loopback_before_connecting() -> None:
    async with wire(guarded=True) as client, serve(answering()) as raw:
        origin = Origin("localhost", port_of(raw.url), False)
        with pytest.raises(WireError) as refused:
            await client.post(origin, b"GET / HTTP/1.1\r\n\r\n")
    assert str(refused.value) == (
        "Destination url is blocked: requests to loopback addresses are not allowed"
    )
    assert raw.connections == 0


async def test_https_to_a_server_speaking_no_tls_cannot_connect(sink: HttpSink) -> None:
    async def tls_hello(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: Raw, _n: int
    ) -> None:
        await reader.read(1)  # a ClientHello arrives; answering garbage fails the handshake
        writer.write(b"not tls at all\r\n\r\n")

    async with serve(tls_hello) as raw:
        answer = await post(sink, raw.url.replace("http://", "https://"))
    assert (answer.detail or "").startswith("cannot connect: ")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(Encoding.PEM))
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert_file, key_file


async def test_tls_sends_the_host_name_and_checks_the_certificate(tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    server_side.sni_callback = lambda _sock, name, _ctx: names.append(name)
    raw = Raw(answering())
    server = await asyncio.start_server(raw._serve, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(cert_file))
    payload = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    origin = Origin("localhost", port, True)
    async with server, asyncio.timeout(BOUND):
        for tls in (None, trusting):  # the default context, then one that trusts the cert
            async with wire(timeout=2.0, total=6.0, tls=tls) as client:
                if tls is None:
                    with pytest.raises(WireError, match="cannot connect: CERTIFICATE_VERIFY"):
                        await client.post(origin, payload)
                else:
                    assert await client.post(origin, payload) == (200, None)
    assert "localhost" in names
    assert len(raw.requests) == 1
