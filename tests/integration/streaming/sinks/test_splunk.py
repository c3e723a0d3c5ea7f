"""The Splunk HEC sink against a loopback receiver that behaves like HEC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web

from auditwire.streaming.sinks import SplunkSink, Verdict
from tests.events import outgoing
from tests.integration.streaming.sinks.receivers import Hec, hec_answer, serve_hec
from tests.live import free_port

TOKEN = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
async def hec() -> AsyncIterator[Hec]:
    async with serve_hec(Hec(TOKEN)) as hec:
        yield hec


@pytest.fixture
async def sink() -> AsyncIterator[SplunkSink]:
    sink = SplunkSink(allow_local_requests=True, ack_interval=0, ack_timeout=0)
    await sink.start()
    yield sink
    await sink.close()


def ids_of(hec: Hec) -> list[int]:
    return [envelope["event"]["id"] for envelope in hec.envelopes]


async def test_a_batch_is_one_request_of_stacked_envelopes(sink: SplunkSink, hec: Hec) -> None:
    target = sink.prepare({"url": hec.url, "index": "audit", "source": "auditwire"}, TOKEN)
    items = outgoing(*range(1, 26))
    answer = await sink.send_batch(target, items)

    assert (answer.answer.verdict, answer.answer.status, answer.requests) == (
        Verdict.DELIVERED,
        200,
        1,
    )
    assert answer.exceptions == {}
    assert hec.requests == 1
    assert ids_of(hec) == list(range(1, 26))
    first = hec.envelopes[0]
    assert list(first) == ["time", "source", "sourcetype", "index", "event"]  # no host
    assert first["time"] == 1741944413.589  # created_at 2025-03-14T09:26:53.589Z
    assert (first["source"], first["sourcetype"], first["index"]) == (
        "auditwire",
        "gitlab:audit",
        "audit",
    )
    assert [e["event"] for e in hec.envelopes] == [orjson.loads(i.body) for i in items]


@pytest.mark.parametrize("named", [True, False], ids=["invalid-event-number", "bisect"])
async def test_the_bad_event_is_refused_with_its_reason_and_the_rest_delivered_once(
    sink: SplunkSink, hec: Hec, named: bool
) -> None:
    hec.bad_ids = {7}
    hec.name_bad_event = named
    target = sink.prepare({"url": hec.url}, TOKEN)
    answer = await sink.send_batch(target, outgoing(*range(1, 11)))

    assert answer.answer.verdict is Verdict.DELIVERED
    assert answer.refused() == {6: "Invalid data format (HEC code 6)"}
    assert answer.answer_for(6).verdict is Verdict.REFUSED
    assert all(answer.answer_for(i).verdict is Verdict.DELIVERED for i in range(10) if i != 6)
    assert sorted(ids_of(hec)) == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    assert len(ids_of(hec)) == 9  # exactly once each
    groups = answer.groups(10)
    assert [(a.verdict, indices) for a, indices in groups] == [
        (Verdict.DELIVERED, [0, 1, 2, 3, 4, 5, 7, 8, 9]),
        (Verdict.REFUSED, [6]),
    ]
    assert answer.requests == (3 if named else hec.requests)
    assert answer.answer.detail is not None and "1 of 10 events refused" in answer.answer.detail


async def test_two_bad_events_in_a_batch_are_both_isolated(sink: SplunkSink, hec: Hec) -> None:
    hec.bad_ids = {3, 12}
    hec.name_bad_event = False
    target = sink.prepare({"url": hec.url}, TOKEN)
    answer = await sink.send_batch(target, outgoing(*range(1, 17)))
    assert sorted(answer.refused()) == [2, 11]
    assert sorted(ids_of(hec)) == [i for i in range(1, 17) if i not in (3, 12)]


async def test_server_busy_is_retried_after_its_retry_after(sink: SplunkSink, hec: Hec) -> None:
    async def busy(_request: web.Request) -> web.Response:
        response = hec_answer(503, 9, "Server is busy")
        response.headers["Retry-After"] = "12"
        return response

    hec.on_event = busy
    target = sink.prepare({"url": hec.url}, TOKEN)
    answer = await sink.send_batch(target, outgoing(1, 2, 3))
    assert (answer.answer.verdict, answer.answer.status, answer.answer.retry_after) == (
        Verdict.RETRY,
        503,
        12.0,
    )
    assert answer.answer.detail == "Server is busy (HEC code 9)"
    assert answer.exceptions == {}

    hec.on_event = None
    again = await sink.send_batch(target, outgoing(1, 2, 3))
    assert again.answer.verdict is Verdict.DELIVERED
    assert ids_of(hec) == [1, 2, 3]


async def test_a_wrong_token_is_a_retried_configuration_error(sink: SplunkSink, hec: Hec) -> None:
    target = sink.prepare({"url": hec.url}, "not-the-token")
    answer = await sink.send_batch(target, outgoing(1, 2))
    assert (answer.answer.verdict, answer.answer.status) == (Verdict.RETRY, 403)
    assert answer.answer.detail == "Invalid token (HEC code 4)"
    assert hec.envelopes == []


async def test_with_ack_a_batch_is_delivered_once_the_indexer_acknowledges(hec: Hec) -> None:
    hec.ack_after = 3
    sink = SplunkSink(allow_local_requests=True, ack_interval=0.0, ack_polls=5)
    await sink.start()
    try:
        target = sink.prepare({"url": hec.url, "ack": True}, TOKEN)
        answer = await sink.send_batch(target, outgoing(1, 2, 3))
    finally:
        await sink.close()
    assert answer.answer.verdict is Verdict.DELIVERED
    assert hec.channels == [sink.channel]
    assert hec.polls == {0: 3}


async def test_with_ack_a_batch_never_acknowledged_is_retried(hec: Hec) -> None:
    hec.ack_after = None
    sink = SplunkSink(allow_local_requests=True, ack_interval=0.0, ack_polls=4)
    await sink.start()
    try:
        target = sink.prepare({"url": hec.url, "ack": True}, TOKEN)
        answer = await sink.send_batch(target, outgoing(1, 2))
    finally:
        await sink.close()
    assert answer.answer.verdict is Verdict.RETRY
    assert answer.answer.detail is not None
    assert answer.answer.detail.startswith("ackId 0 not acknowledged by the indexer within 4")
    assert hec.polls == {0: 4}


async def test_no_answer_is_retried_with_the_reason(sink: SplunkSink) -> None:
    target = sink.prepare({"url": f"http://127.0.0.1:{free_port()}"}, TOKEN)
    answer = await sink.send_batch(target, outgoing(1))
    assert answer.answer.verdict is Verdict.RETRY and answer.answer.status is None
    assert answer.answer.detail is not None and "Connect" in answer.answer.detail
