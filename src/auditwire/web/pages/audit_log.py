"""The audit event log of a group or of the instance: filters, pages, and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import Request

from auditwire.domain.events import AuditEvent, format_timestamp, utcnow
from auditwire.domain.paging import MAX_PAGE
from auditwire.errors import NotFound
from auditwire.services.container import Services
from auditwire.services.events import EventQuery

# The viewer's events in a window: a group's or the instance's, as the services scope them.
ScopeMaker = Callable[[datetime | None, datetime | None], Awaitable[EventQuery]]

PER_PAGE = 20  # events on one page of the log
EXPORT_BATCH = 500  # events read at once while exporting
EXPORT_MAX_ROWS = 100_000  # rows in one CSV export, as GitLab's audit report caps it
EXPORT_COLUMNS = (
    "ID",
    "Author ID",
    "Author Name",
    "Entity ID",
    "Entity Type",
    "Entity Path",
    "Target ID",
    "Target Type",
    "Target Details",
    "Event Type",
    "Message",
    "IP Address",
    "Created At (UTC)",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INVALID_DATE = "is not a valid date"


@dataclass(frozen=True, slots=True)
class LogFilters:
    """What the viewer filtered the log by, as the filter form posts it."""

    created_after: str = ""
    created_before: str = ""
    event_type: str = ""
    author: str = ""
    page: int = 1
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, request: Request) -> LogFilters:
        params = request.query_params
        try:
            # Past the last page the log is empty; the REST API's bound keeps the offset
            # within the database's integers.
            page = min(max(1, int(params.get("page", "1"))), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            created_after=params.get("created_after", "").strip(),
            created_before=params.get("created_before", "").strip(),
            event_type=params.get("event_type", "").strip(),
            author=params.get("author", "").strip(),
            page=page,
        )

    def query_string(self, **changes: object) -> str:
        values = {
            "created_after": self.created_after,
            "created_before": self.created_before,
            "event_type": self.event_type,
            "author": self.author,
            "page": self.page,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    def window(self) -> tuple[datetime | None, datetime | None, dict[str, list[str]]]:
        """The date range as UTC times: from the start of the first day to the end of the last."""
        errors: dict[str, list[str]] = {}
        after = _day(self.created_after, "created_after", errors)
        before = _day(self.created_before, "created_before", errors)
        end = datetime.combine(before, time.max, UTC) if before else None
        return (datetime.combine(after, time.min, UTC) if after else None), end, errors


def _day(value: str, name: str, errors: dict[str, list[str]]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = [f"{value} {INVALID_DATE}"]
        return None


async def filtered(svc: Services, scope: EventQuery, filters: LogFilters) -> EventQuery:
    """The viewer's scope narrowed by the filters; an unknown author matches nothing."""
    author_id = None
    if filters.author:
        try:
            author_id = (await svc.users.get_by_username(filters.author.lstrip("@"))).id
        except NotFound:
            return EventQuery(empty=True)
    return scope.narrowed(author_id=author_id, event_type=filters.event_type or None)


@dataclass(frozen=True, slots=True)
class LogPage:
    events: list[AuditEvent]
    total: int
    filters: LogFilters
    pages: int


async def log_page(svc: Services, scope_of: ScopeMaker, filters: LogFilters) -> LogPage:
    after, before, errors = filters.window()
    if errors:
        return LogPage([], 0, _with_errors(filters, errors), 1)
    query = await filtered(svc, await scope_of(after, before), filters)
    events, total = await svc.events.list(
        query, offset=(filters.page - 1) * PER_PAGE, limit=PER_PAGE
    )
    return LogPage(events, total, filters, max(1, -(-total // PER_PAGE)))


def _with_errors(filters: LogFilters, errors: dict[str, list[str]]) -> LogFilters:
    return LogFilters(
        filters.created_after,
        filters.created_before,
        filters.event_type,
        filters.author,
        filters.page,
        errors,
    )


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(event: AuditEvent) -> list[str]:
    message = event.details.get("custom_message")
    values: tuple[object, ...] = (
        event.id,
        event.author_id,
        event.author_name,
        event.entity_id,
        event.entity_type,
        event.entity_path,
        event.target_id,
        event.target_type,
        event.target_details,
        event.event_type,
        message if isinstance(message, str) else "",
        event.ip_address,
        format_timestamp(event.created_at),
    )
    return [_cell(v) for v in values]


async def export_rows(
    svc: Services, scope_of: ScopeMaker, filters: LogFilters
) -> AsyncIterator[str]:
    """The filtered events as CSV, newest first, read in batches while the answer streams.

    The window ends when the export starts, so that events recorded meanwhile do not shift
    the batches (offsets count from the newest)."""
    after, before, errors = filters.window()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield _drain(buffer)
    if errors:
        return
    started = utcnow() + timedelta(microseconds=1)
    query = await filtered(svc, await scope_of(after, min(before or started, started)), filters)
    for offset in range(0, EXPORT_MAX_ROWS, EXPORT_BATCH):
        events, _ = await svc.events.list(query, offset=offset, limit=EXPORT_BATCH)
        writer.writerows(_row(e) for e in events)
        yield _drain(buffer)
        if len(events) < EXPORT_BATCH:
            return


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
