"""What the delivery engine does the same for every owner and kind: a 410 on the instance's
destination audits the instance's event type, and a fixed URL closes the circuit at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import audit_events
from tests.conftest import MakeAccount
from tests.integration.streaming.factories import (
    add_destination,
    destination_row,
    eventually,
    record,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve


async def _gone(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=410)


async def _down(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=503)


async def test_a_410_on_an_instance_destination_records_the_instance_event_type(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver(_gone)) as receiver:
        destination = await add_destination(services, receiver.url)  # the instance's
        await start_worker()
        await record(services, [user_event()])

        async def deactivated() -> bool:
            return not (await destination_row(services, destination.id)).active

        await eventually(deactivated)
    async with services.store.read() as conn:
        [audit] = list(
            await conn.execute(
                sa.select(audit_events).where(audit_events.c.target_id == str(destination.id))
            )
        )
    assert audit.event_type == "update_instance_event_streaming_destination"
    assert (audit.entity_type, audit.target_type) == (
        "Instance",
        "AuditEvents::InstanceExternalAuditEventDestination",
    )


async def test_a_changed_url_closes_the_circuit_and_the_backlog_goes_at_once(
    services: Services, start_worker: Callable[..., Any], make_account: MakeAccount
) -> None:
    admin = Actor((await make_account("root", admin=True)).user)
    async with serve(Receiver(_down)) as down, serve(Receiver()) as up:
        destination = await add_destination(services, f"{down.url}/typo")
        # Probes far apart: without the reset the fixed URL would wait for the next one.
        await start_worker(delivery_circuit_failures=2, delivery_circuit_probe_base=3600.0)
        ids = await record(services, [user_event(), user_event()])

        async def opened() -> bool:
            return (await destination_row(services, destination.id)).circuit_state == "open"

        await eventually(opened)
        await services.destinations.update_destination(
            admin, destination.id, kind=OwnerKind.INSTANCE, destination_url=f"{up.url}/fixed"
        )
        # An attempt still in flight to the old URL may yet count one failure: the circuit
        # stays closed all the same, and the backlog goes to the fixed URL at once.
        row = await destination_row(services, destination.id)
        assert row.circuit_state == "closed"
        await up.wait_for(set(ids))
