from __future__ import annotations

from dataclasses import dataclass

import pytest

from auditwire.api.graphql.pagination import connection, decode_cursor, encode_cursor
from auditwire.errors import InvalidInput


@dataclass(frozen=True)
class Row:
    id: int


ROWS = [Row(i) for i in (3, 5, 8, 13, 21)]


def ids(**args: object) -> tuple[list[int], bool, bool]:
    page = connection(ROWS, lambda r: r.id, lambda r: r.id, **args)  # type: ignore[arg-type]
    assert [e.node for e in page.edges] == page.nodes
    return page.nodes, page.page_info.has_previous_page, page.page_info.has_next_page


def test_connection_pages_forward_and_backward_by_cursor() -> None:
    assert ids() == ([3, 5, 8, 13, 21], False, False)
    assert ids(first=2) == ([3, 5], False, True)
    assert ids(first=2, after=encode_cursor(5)) == ([8, 13], True, True)
    assert ids(after=encode_cursor(13)) == ([21], True, False)
    assert ids(last=2) == ([13, 21], True, False)
    assert ids(last=2, before=encode_cursor(13)) == ([5, 8], True, True)
    assert ids(first=0) == ([], False, True)


def test_cursors_survive_deleted_records_and_bad_ones_are_refused() -> None:
    assert ids(after=encode_cursor(6)) == ([8, 13, 21], True, False)
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ("@@", "bm90IGpzb24=", "e30="):
        with pytest.raises(InvalidInput, match="Please provide a valid cursor"):
            decode_cursor(bad)
    with pytest.raises(InvalidInput):
        ids(first=-1)
