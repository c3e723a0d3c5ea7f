"""Who receives what: tenants, filters, deactivation, destruction and the SSRF guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import audit_events
from tests.conftest import MakeAccount
from tests.integration.streaming.factories import (
    add_destination,
    add_event_type_filter,
    add_group,
    add_namespace_filter,
    add_project,
    delivery_rows,
    destination_row,
    destroy_destination,
    eventually,
    group_event,
    project_event,
    record,
    set_active,
    user_event,
)
from tests.integration.streaming.receivers import Receiver, serve


async def test_an_event_never_reaches_another_top_level_groups_destination(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    a = await add_group(services, "a")
    a_sub = await add_group(services, "sub", parent_id=a)
    a_project = await add_project(services, a_sub, "app")
    b = await add_group(services, "b")
    async with serve(Receiver()) as to_a, serve(Receiver()) as to_b:
        await add_destination(services, to_a.url, group_id=a)
        await add_destination(services, to_b.url, group_id=b)
        await start_worker()
        a_ids = await record(
            services,
            [group_event(a, "a"), group_event(a_sub, "a/sub", root_id=a)]
            + [project_event(a_project, "a/sub/app", root_id=a) for _ in range(20)]
            + [user_event()],
        )
        b_ids = await record(services, [group_event(b, "b") for _ in range(5)])
        await to_a.wait_for(set(a_ids[:-1]))
        await to_b.wait_for(set(b_ids))
    assert set(to_a.delivered) == set(a_ids[:-1])  # not the user event: instance only
    assert set(to_b.delivered) == set(b_ids)


async def test_event_type_and_namespace_filters_choose_the_events(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    top = await add_group(services, "top")
    sub = await add_group(services, "sub", parent_id=top)
    subsub = await add_group(services, "deep", parent_id=sub)
    sibling = await add_group(services, "sibling", parent_id=top)
    app = await add_project(services, sub, "app")
    other = await add_project(services, sibling, "other")
    async with (
        serve(Receiver()) as by_type,
        serve(Receiver()) as by_group,
        serve(Receiver()) as by_project,
        serve(Receiver()) as everything,
    ):
        typed = await add_destination(services, by_type.url, group_id=top)
        await add_event_type_filter(services, typed.id, "project_created")
        await add_event_type_filter(services, typed.id, "member_created")
        grouped = await add_destination(services, by_group.url, group_id=top)
        await add_namespace_filter(services, grouped.id, group_id=sub)
        projected = await add_destination(services, by_project.url, group_id=top)
        await add_namespace_filter(services, projected.id, project_id=app)
        await add_destination(services, everything.url, group_id=top)
        await start_worker()
        ids = await record(
            services,
            [
                project_event(app, "top/sub/app", top, "project_created"),  # 0
                project_event(other, "top/sibling/other", top, "project_created"),  # 1
                group_event(sub, "top/sub", "member_created", root_id=top),  # 2
                group_event(subsub, "top/sub/deep", "group_updated", root_id=top),  # 3
                group_event(sibling, "top/sibling", "group_updated", root_id=top),  # 4
                project_event(app, "top/sub/app", top, "project_updated"),  # 5
            ],
        )
        await everything.wait_for(set(ids))
        await by_type.wait_for({ids[0], ids[1], ids[2]})
        await by_group.wait_for({ids[0], ids[2], ids[3], ids[5]})
        await by_project.wait_for({ids[0], ids[5]})
    assert set(by_type.delivered) == {ids[0], ids[1], ids[2]}
    assert set(by_group.delivered) == {ids[0], ids[2], ids[3], ids[5]}
    assert set(by_project.delivered) == {ids[0], ids[5]}


async def test_inactive_destinations_get_no_new_deliveries(services: Services) -> None:
    group = await add_group(services, "acme")
    await add_destination(services, "http://127.0.0.1:9/hook", group_id=group, active=False)
    await record(services, [group_event(group, "acme")])
    assert await delivery_rows(services) == []


async def test_410_deactivates_the_destination_audits_it_and_keeps_the_delivery(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    group = await add_group(services, "acme")
    answer = 410

    async def gone_then_back(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=answer)

    async with serve(Receiver(gone_then_back)) as receiver:
        destination = await add_destination(services, receiver.url, group_id=group)
        await start_worker()
        ids = await record(services, [group_event(group, "acme")])

        async def deactivated() -> bool:
            return not (await destination_row(services, destination.id)).active

        await eventually(deactivated)
        async with services.store.read() as conn:
            audit = (
                await conn.execute(
                    sa.select(audit_events).where(
                        audit_events.c.event_type == "update_event_streaming_destination"
                    )
                )
            ).one()
        assert audit.entity_id == group
        assert audit.target_id == str(destination.id)
        assert audit.details["to"] is False
        kept = await delivery_rows(services)
        assert [row.event_id for row in kept] == ids
        assert receiver.requests == 1

        answer = 200
        await set_active(services, destination.id, True)
        await receiver.wait_for(set(ids))
    assert receiver.requests == 2


async def test_a_reactivated_destination_receives_what_waited_and_a_destroyed_one_drops_it(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver()) as resumed:
        keep = await add_destination(services, resumed.url)
        drop = await add_destination(services, "http://127.0.0.1:9/hook")
        ids = await record(services, [user_event() for _ in range(10)])
        await set_active(services, keep.id, False)
        await set_active(services, drop.id, False)
        await start_worker()
        await destroy_destination(services, drop.id)
        rows = await delivery_rows(services)
        assert {row.destination_id for row in rows} == {keep.id}
        assert len(rows) == len(ids)
        await set_active(services, keep.id, True)
        await resumed.wait_for(set(ids))
    assert resumed.requests == len(ids)


async def test_local_addresses_are_refused_at_send_time_unless_allowed(
    services: Services, start_worker: Callable[..., Any]
) -> None:
    async with serve(Receiver()) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        by_ip = await add_destination(services, receiver.url)
        by_name = await add_destination(services, f"http://localhost:{port}/hook")
        await start_worker(allow_local_requests=False)
        await record(services, [user_event()])

        async def refused() -> bool:
            rows = await delivery_rows(services)
            return len(rows) == 2 and all(row.last_error for row in rows)

        await eventually(refused)
        errors = {row.destination_id: row.last_error for row in await delivery_rows(services)}
        assert receiver.requests == 0
    loopback = "Destination url is blocked: requests to loopback addresses are not allowed"
    assert errors[by_ip.id] == loopback
    assert "Destination url is blocked" in errors[by_name.id]
    assert "loopback" in errors[by_name.id]


async def _pending_for(services: Services, destination_id: int) -> set[int]:
    return {r.event_id for r in await delivery_rows(services) if r.destination_id == destination_id}


async def test_a_group_off_ultimate_streams_nothing_new_and_finishes_what_is_queued(
    services: Services, start_worker: Callable[..., Any], make_account: MakeAccount
) -> None:
    admin = Actor((await make_account("root", admin=True)).user)
    acme = await add_group(services, "acme")
    async with serve(Receiver()) as to_group, serve(Receiver()) as to_instance:
        group_destination = await add_destination(services, to_group.url, group_id=acme)
        instance_destination = await add_destination(services, to_instance.url)
        queued = await record(services, [group_event(acme, "acme") for _ in range(3)])
        assert await _pending_for(services, group_destination.id) == set(queued)

        await services.namespaces.set_plan(admin, acme, "free")  # PUT /namespaces/:id plan=free
        while_free = await record(services, [group_event(acme, "acme") for _ in range(3)])
        assert await _pending_for(services, group_destination.id) == set(queued)
        assert set(while_free) <= await _pending_for(services, instance_destination.id)

        await start_worker()
        await to_group.wait_for(set(queued))
        await to_instance.wait_for(set(queued) | set(while_free))
        await eventually(lambda: _outbox_empty(services))
        assert not set(while_free) & set(to_group.delivered)

        await services.namespaces.set_plan(admin, acme, "ultimate")
        again = await record(services, [group_event(acme, "acme") for _ in range(2)])
        await to_group.wait_for(set(again))
    # The downgrade's own event is recorded on Free, the upgrade's on Ultimate.
    upgraded = max(set(to_group.delivered) - set(queued) - set(again))
    assert set(to_group.delivered) == set(queued) | {upgraded} | set(again)
    assert max(while_free) < upgraded < min(again)


async def _outbox_empty(services: Services) -> bool:
    return not await delivery_rows(services)
