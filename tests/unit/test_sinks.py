"""What the S3 and Google Cloud Logging sinks accept as config, and GitLab's S3 key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from auditwire.streaming.sinks import GcpSink, S3Sink
from auditwire.streaming.sinks.s3 import object_key, s3_error
from tests.events import audit_event
from tests.integration.streaming.sinks.google import new_private_key

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS = {
    "accessKeyXid": "AKIAIOSFODNN7EXAMPLE",
    "bucketName": "audit-events",
    "awsRegion": "eu-west-1",
}
GCP = {"googleProjectIdName": "my-project", "clientEmail": "svc@my-project.iam.example"}


@pytest.mark.parametrize(
    ("entity_type", "folder"),
    [
        ("Group", "group"),
        ("Project", "project"),
        ("User", "user"),
        ("Instance", "instance"),
        ("Gitlab::Audit::InstanceScope", "gitlab_audit_instancescope"),
        ("", "unspecified"),
    ],
)
def test_the_object_key_follows_gitlabs_layout_at_upload_time(
    entity_type: str, folder: str
) -> None:
    event = audit_event(887, entity_type=entity_type)  # created in March 2025
    sent_at = datetime(2023, 9, 11, 14, 11, 49, 820000, tzinfo=UTC)
    assert object_key(event, sent_at) == (
        f"{folder}/2023/09/update_approval_rules_887_1694441509820.json"
    )


def test_an_s3_target_addresses_aws_by_region_and_shows_no_secret() -> None:
    sink = S3Sink()
    target = sink.prepare(AWS, SECRET)
    assert target.base_url == "https://audit-events.s3.eu-west-1.amazonaws.com/"
    assert SECRET not in repr(target)
    dotted = sink.prepare({**AWS, "bucketName": "audit.events"}, SECRET)
    assert dotted.base_url == "https://s3.eu-west-1.amazonaws.com/audit.events/"
    store = sink.prepare({**AWS, "endpointUrl": "https://minio.example.com:9000/"}, SECRET)
    assert store.base_url == "https://minio.example.com:9000/audit-events/"


def test_the_operators_s3_endpoint_serves_destinations_that_name_none() -> None:
    sink = S3Sink(endpoint_url="http://127.0.0.1:9000/")
    assert sink.prepare(AWS, SECRET).base_url == "http://127.0.0.1:9000/audit-events/"
    own = sink.prepare({**AWS, "endpointUrl": "https://minio.example.com"}, SECRET)
    assert own.base_url == "https://minio.example.com/audit-events/"


@pytest.mark.parametrize(
    ("change", "secret", "message"),
    [
        ({"accessKeyXid": None}, SECRET, "config accessKeyXid is required"),
        ({"accessKeyXid": "AKIA EXAMPLE"}, SECRET, "config accessKeyXid may contain only"),
        ({"bucketName": "Audit"}, SECRET, "config bucketName must be lower-case"),
        ({"bucketName": "a" * 64}, SECRET, "config bucketName is too long"),
        ({"awsRegion": "eu-west-1.evil.example/"}, SECRET, "config awsRegion must be"),
        ({}, "", "the secret access key is required"),
        ({"endpointUrl": "ftp://store.example"}, SECRET, "config endpointUrl must be an http"),
        ({"endpointUrl": "https://u:p@store.example"}, SECRET, "must not contain credentials"),
        ({"endpointUrl": "https://store.example/?a=1"}, SECRET, "must not have a query"),
        ({"endpointUrl": 5}, SECRET, "config endpointUrl must be a URL"),
    ],
)
def test_an_unusable_s3_config_is_refused_with_its_reason(
    change: dict[str, Any], secret: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        S3Sink().prepare({**AWS, **change}, secret)


def test_an_s3_error_document_gives_its_code_and_message() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code>'
        b"<Message>The specified bucket does not exist</Message><BucketName>b</BucketName>"
        b"</Error>"
    )
    assert s3_error(body) == ("NoSuchBucket", "The specified bucket does not exist")
    namespaced = (
        b'<Error xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Code>AccessDenied</Code></Error>'
    )
    assert s3_error(namespaced) == ("AccessDenied", None)
    assert s3_error(b"<html>Bad Gateway") == (None, None)
    assert s3_error(b"") == (None, None)


def test_a_gcp_target_names_the_log_and_shows_no_key() -> None:
    pem, _ = new_private_key()
    target = GcpSink().prepare(GCP, pem)
    assert target.log_name == "projects/my-project/logs/audit-events"
    assert "PRIVATE KEY" not in repr(target)
    nested = GcpSink().prepare({**GCP, "logIdName": "gitlab/audit"}, pem)
    assert nested.log_name == "projects/my-project/logs/gitlab%2Faudit"  # as Google requires


def test_an_unusable_gcp_config_is_refused_with_its_reason() -> None:
    pem, _ = new_private_key()
    sink = GcpSink()
    with pytest.raises(ValueError, match="config googleProjectIdName is too short"):
        sink.prepare({**GCP, "googleProjectIdName": "proj"}, pem)
    with pytest.raises(ValueError, match="config googleProjectIdName must start"):
        sink.prepare({**GCP, "googleProjectIdName": "My-Project"}, pem)
    with pytest.raises(ValueError, match="config clientEmail must be an email address"):
        sink.prepare({**GCP, "clientEmail": "nobody"}, pem)
    with pytest.raises(ValueError, match="config logIdName may contain only"):
        sink.prepare({**GCP, "logIdName": "audit events"}, pem)
    with pytest.raises(ValueError, match="the private key is required"):
        sink.prepare(GCP, "")
    with pytest.raises(ValueError, match="not an unencrypted PEM private key"):
        sink.prepare(GCP, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    with pytest.raises(ValueError, match="the private key must be an RSA key"):
        sink.prepare(GCP, ec_pem)
