from __future__ import annotations

import logging

import orjson

from auditwire.logs import JsonFormatter


def test_log_lines_are_json_with_extra_fields() -> None:
    record = logging.LogRecord(
        "auditwire.x", logging.WARNING, __file__, 1, "attempt %s", (3,), None
    )
    record.destination_id = 7
    line = orjson.loads(JsonFormatter().format(record))
    assert line["level"] == "warning"
    assert line["message"] == "attempt 3"
    assert line["destination_id"] == 7
    assert line["logger"] == "auditwire.x"
    assert line["time"].endswith("+00:00")
