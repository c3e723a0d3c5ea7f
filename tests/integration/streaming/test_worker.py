"""The worker's life cycle: graceful shutdown, configuration refresh, the in-process worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from auditwire.api.app import create_app
from auditwire.cli import build_parser
from auditwire.config import Settings
from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import streaming_headers
from auditwire.streaming import worker as worker_module
from tests.conftest import MakeAccount
from tests.integration.streaming.factories import (
    add_destination,
    add_header,
    delivery_rows,
    eventually,
    record,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve
from tests.integration.streaming.test_failures import blackhole


async def test_stopping_releases_the_leases_of_requests_that_did_not_finish(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with blackhole() as (url, held):
        await add_destination(services, url)
        worker = await start_worker(delivery_timeout=30.0)
        await record(services, [user_event() for _ in range(40)])

        async def all_connected() -> bool:
            return len(held) >= 16

        await eventually(all_connected)
        await worker.stop(grace=0.1)
        rows = await delivery_rows(services)
    assert len(rows) == 40
    assert all(row.lease_expires_at is None for row in rows)
    assert all(row.attempts == 0 for row in rows)  # never answered: not counted as attempts


async def test_a_changed_header_value_is_sent_from_then_on(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver()) as receiver:
        destination = await add_destination(services, receiver.url)
        await add_header(services, destination.id, "X-Tenant", "old")
        await start_worker()
        first = await record(services, [user_event()])
        await receiver.wait_for(set(first))
        async with services.store.write() as conn:
            await conn.execute(
                streaming_headers.update()
                .where(streaming_headers.c.destination_id == destination.id)
                .values(value=services.box.encrypt("new"))
            )
        # Without touching the destination's updated_at: the worker re-reads destinations
        # every REFRESH_INTERVAL, so the new value is sent from then on.
        later: list[int] = []
        for _ in range(2000):
            later += await record(services, [user_event()])
            await receiver.wait_for(set(later))
            if receiver.received[-1].headers["X-Tenant"] == "new":
                break
    values = [r.headers["X-Tenant"] for r in sorted(receiver.received, key=lambda r: r.event_id)]
    assert values[0] == "old"
    switched = values.index("new")
    assert set(values[switched:]) == {"new"}


@pytest.mark.parametrize("change", ["create", "update", "destroy"])
async def test_a_header_change_applies_to_the_event_recorded_with_it(
    services: Services,
    start_worker: Callable[..., Any],
    make_account: MakeAccount,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    """The event that says a header changed is recorded in the change's transaction, and the
    worker sends it with the change even though its destinations were loaded just before."""
    monkeypatch.setattr(worker_module, "REFRESH_INTERVAL", 3600.0)  # no periodic re-read
    admin = Actor((await make_account("root", admin=True)).user)
    parts = services.destinations
    async with serve(Receiver()) as receiver:
        destination = await add_destination(services, receiver.url)
        header = None
        if change != "create":
            header = await parts.create_header(
                admin, destination.id, kind=OwnerKind.INSTANCE, key="X-Team", value="old"
            )
        await start_worker()
        before = await record(services, [user_event()])
        await receiver.wait_for(set(before))  # destinations loaded and used
        if header is None:
            await parts.create_header(
                admin, destination.id, kind=OwnerKind.INSTANCE, key="X-Team", value="new"
            )
        elif change == "update":
            await parts.update_header(admin, header.id, kind=OwnerKind.INSTANCE, value="new")
        else:
            await parts.destroy_header(admin, header.id, kind=OwnerKind.INSTANCE)
        await receiver.wait_requests(2)
        await eventually(lambda: _outbox_empty(services))
    sent = {orjson.loads(r.body)["event_type"]: r.headers.get("X-Team") for r in receiver.received}
    expected = {"create": "new", "update": "new", "destroy": None}[change]
    assert sent[f"audit_events_streaming_instance_headers_{change}"] == expected
    assert receiver.received[0].headers.get("X-Team") == (None if header is None else "old")


async def _outbox_empty(services: Services) -> bool:
    return not await delivery_rows(services)


async def test_the_app_runs_a_worker_in_its_process_when_asked(
    services: Services, fast_settings: Settings
) -> None:
    app = create_app(fast_settings, services.store, worker=True)
    async with serve(Receiver()) as receiver:
        await add_destination(services, receiver.url)
        async with app.router.lifespan_context(app):
            ids = await record(services, [user_event() for _ in range(10)])
            await receiver.wait_for(set(ids))
    assert set(receiver.delivered) == set(ids)


def test_serve_runs_the_worker_unless_told_not_to() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve"]).no_worker is False
    assert parser.parse_args(["serve", "--no-worker"]).no_worker is True
    assert parser.parse_args(["worker"]).command == "worker"


@pytest.mark.parametrize("command", [["serve", "--port"], ["worker", "--metrics-port"]])
@pytest.mark.parametrize("port", ["0", "65536", "-1", "http"])
def test_a_port_that_is_not_one_is_refused_by_the_command_line(
    command: list[str], port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args([*command, port])
    assert refused.value.code == 2
    assert f"'{port}' is not a port number (1 to 65535)" in capsys.readouterr().err


def test_the_worker_takes_a_metrics_address() -> None:
    args = build_parser().parse_args(["worker", "--metrics-port", "9100"])
    assert (args.metrics_host, args.metrics_port) == ("127.0.0.1", 9100)
    assert build_parser().parse_args(["worker"]).metrics_port is None
