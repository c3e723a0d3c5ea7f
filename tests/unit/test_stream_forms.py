"""The streams pages' forms: a config as typed, a saved config as fields, and each of the
API's messages beside the field it concerns."""

from __future__ import annotations

import pytest

from auditwire.domain.categories import CATEGORIES
from auditwire.errors import InvalidInput
from auditwire.web.pages.stream_config import (
    config_of,
    fields_of,
    form_values,
    layout_of,
    with_layout,
)
from auditwire.web.pages.stream_queries import Kind, Owner, errors_by_field

OWNER = Owner("acme")


def kind(key: str) -> Kind:
    found = OWNER.kind(key)
    assert found is not None
    return found


def test_a_splunk_config_holds_what_was_typed_and_numbers_as_numbers() -> None:
    form = {
        "url": "https://splunk.example:8088",
        "index": "audit",
        "source": "",
        "sourcetype": "  ",
        "ack": "true",
        "batch_max_events": " 100 ",
        "batch_max_bytes": "",
        "batch_max_wait_ms": "soon",
    }
    assert config_of(kind("splunk"), form) == {
        "url": "https://splunk.example:8088",
        "index": "audit",
        "ack": True,
        "batch": {"maxEvents": 100, "maxWaitMs": "soon"},
    }


def test_the_api_judges_the_config_typed_into_a_form() -> None:
    config = config_of(kind("splunk"), {"url": "https://s.example", "batch_max_wait_ms": "soon"})
    with pytest.raises(InvalidInput, match=r"\AConfig batch.maxWaitMs must be of type integer"):
        CATEGORIES["splunk"].validate_config(config)


def test_a_datadog_form_sends_its_config_and_api_key() -> None:
    form = {"site": "datadoghq.eu", "ddtags": "env:prod", "secret_token": "key"}
    assert fields_of(kind("datadog"), form) == {
        "config": {"site": "datadoghq.eu", "ddtags": "env:prod"},
        "secretToken": "key",
    }


def test_gitlabs_kinds_send_their_own_arguments() -> None:
    form = {"access_key_xid": "AKIA", "bucket_name": "b", "aws_region": "eu-west-1"}
    assert fields_of(kind("aws"), form) == {
        "accessKeyXid": "AKIA",
        "bucketName": "b",
        "awsRegion": "eu-west-1",
        "secretAccessKey": "",
    }


def test_one_event_per_request_takes_no_batch() -> None:
    assert layout_of({"format": "event", "batch_max_events": "10"}) == {}
    assert layout_of({}) == {}
    assert layout_of({"format": "ndjson", "batch_max_events": "10"}) == {
        "format": "ndjson",
        "batch": {"maxEvents": 10},
    }


def test_a_changed_layout_keeps_the_headers_and_takes_the_url_typed() -> None:
    config = {
        "url": "https://old.example",
        "format": "ndjson",
        "batch": {"maxEvents": 5},
        "headers": {"X-Team": {"value": "audit", "active": True}},
    }
    assert with_layout(config, "https://new.example", {}) == {
        "url": "https://new.example",
        "headers": {"X-Team": {"value": "audit", "active": True}},
    }


def test_a_saved_config_fills_its_form() -> None:
    saved = {"url": "https://s.example", "ack": True, "batch": {"maxEvents": 100}}
    values = form_values(saved)
    assert values == {"url": "https://s.example", "ack": "true", "batch_max_events": "100"}
    assert config_of(kind("splunk"), values) == saved


@pytest.mark.parametrize(
    ("key", "message", "field"),
    [
        ("splunk", "Config batch.maxEvents must be less than or equal to 1000", "batch_max_events"),
        ("splunk", "Config url is invalid", "url"),
        ("splunk", "Secret token must not contain spaces, line breaks or NUL", "secret_token"),
        ("datadog", "Config takes site or url, not both", "site"),
        ("http", "Config url is invalid", "destination_url"),
        ("http", 'Config batch needs config format "json_array" or "ndjson"', "format"),
        ("aws", "Config bucketName is too long (maximum is 63 characters)", "bucket_name"),
        ("aws", "Secret access key is too long", "secret_access_key"),
        ("http", "Name is too long", "name"),
        ("splunk", "Something else", "base"),
    ],
)
def test_each_message_is_placed_beside_its_field(key: str, message: str, field: str) -> None:
    assert errors_by_field([message], kind=kind(key)) == {field: [message]}
