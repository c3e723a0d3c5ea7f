"""The config rules of the batch kinds and batched layouts, as the services apply them."""

from __future__ import annotations

import pytest

from auditwire.domain.batch_rules import batched
from auditwire.domain.categories import rules_for
from auditwire.errors import InvalidInput

AWS = {"accessKeyXid": "AKIAIOSFODNN7EXAMPLE", "bucketName": "audit", "awsRegion": "us-east-1"}


def test_http_takes_a_batched_format_and_keeps_event_as_the_default() -> None:
    http = rules_for("http")
    config = http.validate_config({"url": "https://siem", "format": "ndjson", "batch": {}})
    assert batched("http", config)
    plain = http.validate_config({"url": "https://siem", "format": "event"})
    assert plain == {"url": "https://siem"} and not batched("http", plain)


@pytest.mark.parametrize(
    ("category", "config", "message"),
    [
        ("http", {"url": "https://siem", "batch": {"maxEvents": 10}}, "batch needs config format"),
        ("http", {"url": "https://siem", "format": "xml"}, "Config format must be one of"),
        (
            "http",
            {"url": "https://siem", "format": "ndjson", "batch": {"maxBytes": 6_000_000}},
            "maxBytes must be less than or equal to 5242880",
        ),
        ("aws", {**AWS, "batch": {"maxEvents": 10}}, 'needs config format "ndjson_gz"'),
        ("splunk", {"index": "audit"}, "Config url is missing"),
        ("splunk", {"url": "https://s:8088", "tls": True}, "unknown key tls"),
        ("datadog", {"site": "datadoghq.eu", "url": "https://proxy"}, "site or url, not both"),
        ("datadog", {"site": "not a site"}, "Config site is invalid"),
    ],
)
def test_bad_batch_configs_are_refused_with_the_reason(
    category: str, config: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        rules_for(category).validate_config(config)


def test_aws_takes_the_batched_object_layout() -> None:
    config = rules_for("aws").validate_config({**AWS, "format": "ndjson_gz"})
    assert batched("aws", config) and not batched("aws", AWS)
    assert batched("splunk", {}) and batched("datadog", {})
