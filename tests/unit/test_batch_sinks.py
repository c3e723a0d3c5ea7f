"""The batch kinds' config rules and the batch answer's grouping, without a network."""

from __future__ import annotations

from typing import Any

import pytest

from auditwire.streaming.sinks.base import Answer, BatchAnswer, BatchLimits, Verdict
from auditwire.streaming.sinks.batching import DEFAULT_LIMITS, batch_limits, cut
from auditwire.streaming.sinks.datadog import datadog_settings
from auditwire.streaming.sinks.http_batch import http_batch_settings
from auditwire.streaming.sinks.s3_batch import s3_batch_limits
from auditwire.streaming.sinks.splunk import splunk_settings


def test_splunk_defaults_and_fields() -> None:
    settings = splunk_settings({"url": "https://splunk.example:8088/", "index": "audit"})
    assert settings.url == "https://splunk.example:8088"
    assert (settings.sourcetype, settings.index, settings.host, settings.ack) == (
        "gitlab:audit",
        "audit",
        None,
        False,
    )
    assert settings.limits == DEFAULT_LIMITS


def test_datadog_site_becomes_its_intake_url() -> None:
    assert datadog_settings({"site": "datadoghq.eu"}).url == (
        "https://http-intake.logs.datadoghq.eu/api/v2/logs"
    )
    assert datadog_settings({}).ddsource == "gitlab"
    assert datadog_settings({}).limits.max_events == 1000


@pytest.mark.parametrize(
    ("rule", "config", "message"),
    [
        (splunk_settings, {}, "config url is required"),
        (splunk_settings, {"url": "ftp://x"}, "config url must be an http:// or https://"),
        (splunk_settings, {"url": "https://s", "ack": "yes"}, "config ack must be true or false"),
        (splunk_settings, {"url": "https://s", "indexes": "a"}, "unknown keys: indexes"),
        (splunk_settings, {"url": "https://s", "index": " "}, "config index must be a non-empty"),
        (datadog_settings, {"site": "eu", "url": "https://x"}, "site or url, not both"),
        (datadog_settings, {"site": "not a site"}, "config site must be a Datadog site"),
        (http_batch_settings, {"format": "xml"}, 'config format must be "event", "json_array"'),
        (http_batch_settings, {"batch": {}}, "config batch needs config format"),
        (s3_batch_limits, {}, 'config format must be "ndjson_gz"'),
    ],
)
def test_config_rules_refuse_with_a_readable_reason(
    rule: Any, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("+", r"\+")):
        rule(config)


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"maxEvents": 1001}, "config batch.maxEvents must be between 1 and 1000"),
        ({"maxBytes": 0}, "config batch.maxBytes must be between 1 and 5242880"),
        ({"maxWaitMs": "200"}, "config batch.maxWaitMs must be an integer"),
        ({"size": 5}, "config batch has unknown keys: size"),
        ([], "config batch must be an object"),
    ],
)
def test_batch_limits_are_held_to_the_ceiling(batch: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        batch_limits({"batch": batch}, ceiling=DEFAULT_LIMITS)


def test_batch_limits_fill_in_the_ceiling() -> None:
    limits = batch_limits({"batch": {"maxEvents": 100}}, ceiling=DEFAULT_LIMITS)
    assert limits == BatchLimits(100, DEFAULT_LIMITS.max_bytes, 200)


def test_cut_respects_events_and_bytes_and_isolates_an_oversized_item() -> None:
    assert cut([1, 1, 1, 1, 1], max_events=2, max_bytes=100) == [[0, 1], [2, 3], [4]]
    assert cut([40, 40, 40, 500, 10], max_events=10, max_bytes=100) == [[0, 1], [2], [3], [4]]


def test_groups_settle_every_index_once_with_the_batch_answer_first() -> None:
    delivered = Answer(Verdict.DELIVERED, status=200)
    refused = Answer(Verdict.REFUSED, status=400, detail="Invalid data format (HEC code 6)")
    answer = BatchAnswer(delivered, {2: refused, 4: refused})
    assert answer.groups(5) == [(delivered, [0, 1, 3]), (refused, [2, 4])]
    assert answer.refused() == {2: refused.detail, 4: refused.detail}
