"""Fuzz a live auditwire: schemathesis on the REST API and the GraphQL schema, then a corpus
of hostile requests; print the number of requests, of 5xx answers, and the server's RSS.

Runs `auditwire serve` in a subprocess on a free loopback port against a fresh database
(`--backend sqlite|postgresql`). Every request goes to that server only.

    .venv/bin/python bench/fuzz.py [--backend sqlite] [--examples 25]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import schemathesis
from graphql import NameNode, ObjectFieldNode, ObjectValueNode, StringValueNode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ingest import fresh_database, running_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.integration.graphql.hostile import (
    aliases,
    fragment_bomb,
    instance_health,
    string_literal,
)

GRAPHQL = "/api/graphql"
OPENAPI = "/-/openapi.json"
REQUEST_TIMEOUT = 30.0  # seconds for one request
MEGABYTE = 1024 * 1024


@dataclass
class Tally:
    requests: int = 0
    server_errors: int = 0
    failures: int = 0  # no answer at all (connection reset, timeout)
    statuses: Counter[int] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)

    def record(self, status: int, what: str) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors += 1
            if len(self.samples) < 10:
                self.samples.append(f"{status} {what}")

    def failed(self, what: str, error: Exception) -> None:
        self.requests += 1
        self.failures += 1
        if len(self.samples) < 10:
            self.samples.append(f"no answer: {what}: {type(error).__name__}")


def _run_cases(strategy: Any, examples: int, call: Callable[[Any], None]) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        call(case)

    run()


GID_MODELS = {  # auditwire's ID scalars and the model in their Global IDs
    "AuditEventsExternalAuditEventDestinationID": "AuditEvents::ExternalAuditEventDestination",
    "AuditEventsInstanceExternalAuditEventDestinationID": (
        "AuditEvents::InstanceExternalAuditEventDestination"
    ),
    "AuditEventsStreamingHTTPNamespaceFilterID": "AuditEvents::Streaming::HTTP::NamespaceFilter",
    "AuditEventsStreamingHeaderID": "AuditEvents::Streaming::Header",
    "AuditEventsStreamingInstanceHeaderID": "AuditEvents::Streaming::InstanceHeader",
    "AuditEventsStreamingDestinationID": "AuditEvents::Group::ExternalStreamingDestination",
    "AuditEventsGroupExternalStreamingDestinationID": (
        "AuditEvents::Group::ExternalStreamingDestination"
    ),
    "AuditEventsInstanceExternalStreamingDestinationID": (
        "AuditEvents::Instance::ExternalStreamingDestination"
    ),
    "AuditEventsGroupNamespaceFilterID": "AuditEvents::Group::NamespaceFilter",
    "AuditEventsInstanceNamespaceFilterID": "AuditEvents::Instance::NamespaceFilter",
    "AuditEventsGoogleCloudLoggingConfigurationID": "AuditEvents::GoogleCloudLoggingConfiguration",
    "AuditEventsInstanceGoogleCloudLoggingConfigurationID": (
        "AuditEvents::Instance::GoogleCloudLoggingConfiguration"
    ),
    "AuditEventsAmazonS3ConfigurationID": "AuditEvents::AmazonS3Configuration",
    "AuditEventsInstanceAmazonS3ConfigurationID": "AuditEvents::Instance::AmazonS3Configuration",
}
# Keys of the categories' configs, so that generated configs reach the rules behind them.
CONFIG_KEYS = (
    "url",
    "headers",
    "format",
    "batch",
    "accessKeyXid",
    "bucketName",
    "awsRegion",
    "endpointUrl",
    "googleProjectIdName",
    "clientEmail",
    "logIdName",
    "index",
    "site",
)


def register_scalars() -> None:
    """Strategies for the custom scalars: mostly well-formed Global IDs, some garbage."""
    for scalar, model in GID_MODELS.items():
        ids = st.one_of(
            st.integers(min_value=-1, max_value=2**64).map(
                lambda n, m=model: f"gid://gitlab/{m}/{n}"
            ),
            st.text(max_size=40),
        )
        schemathesis.graphql.scalar(scalar, ids.map(lambda v: StringValueNode(value=v)))
    times = st.one_of(st.datetimes().map(lambda t: t.isoformat()), st.text(max_size=30))
    schemathesis.graphql.scalar("Time", times.map(lambda v: StringValueNode(value=v)))
    configs = st.dictionaries(
        st.one_of(st.sampled_from(CONFIG_KEYS), st.text(min_size=1, max_size=20)),
        st.text(max_size=60),
        max_size=5,
    )
    schemathesis.graphql.scalar("JSON", configs.map(_object_node))


def _object_node(config: dict[str, str]) -> ObjectValueNode:
    return ObjectValueNode(
        fields=tuple(
            ObjectFieldNode(name=NameNode(value=key), value=StringValueNode(value=value))
            for key, value in config.items()
            if key.isidentifier()
        )
    )


def fuzz_schema(schema: Any, base_url: str, headers: dict[str, str], examples: int) -> Tally:
    tally = Tally()

    def call(case: Any) -> None:
        what = f"{case.method} {case.formatted_path}"
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT)
        except Exception as error:
            tally.failed(what, error)
            return
        tally.record(response.status_code, what)

    for result in schema.get_all_operations():
        operation = result.ok()
        _run_cases(operation.as_strategy(), examples, call)
    return tally


def _graphql(query: str, variables: Any = None) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


def hostile_corpus(admin: dict[str, str]) -> Iterator[tuple[str, str, dict[str, str], Any]]:
    """(method, path, headers, body bytes or a chunk iterator) of requests built to hurt."""
    json = {"content-type": "application/json"}
    documents = [
        fragment_bomb(),
        fragment_bomb(20, 4),
        aliases(20_000),
        aliases(500),
        instance_health(5_000),
        instance_health(400),
        string_literal(10_000_000),
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "{" * 3_000 + "}" * 3_000,
        'query { group(fullPath: "\\ud800") { id } }',
        'query { group(fullPath: "a\\u0000") { id } }',
        'query { group(fullPath: "\\u00b9") { id } }',
        'query { project(fullPath: "\\u0663") { id } }',
    ]
    for document in documents:
        yield "POST", GRAPHQL, json, _graphql(document)
        yield "POST", GRAPHQL, {**json, **admin}, _graphql(document)
    for body in (
        b"null",
        b"123",
        b'"x"',
        b"[]",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "{ __typename }", "variables": {"v": "\\udc00"}}',
        b'{"query": "{ __typename }", "variables": {"v": "a\\u0000"}}',
        b'{"query": {"nested": true}}',
    ):
        yield "POST", GRAPHQL, {**json, **admin}, body
    filters = {
        "input": {
            "destinationId": "gid://gitlab/AuditEvents::InstanceExternalAuditEventDestination/1",
            "eventTypeFilters": [f"t{n}" for n in range(100_000)],
        }
    }
    add = (
        "mutation($input: AuditEventsStreamingDestinationInstanceEventsAddInput!) {"
        " auditEventsStreamingDestinationInstanceEventsAdd(input: $input) { errors } }"
    )
    yield "POST", GRAPHQL, {**json, **admin}, _graphql(add, filters)
    yield "POST", GRAPHQL, {"content-type": "text/plain"}, b"{ __typename }"
    for path in (
        "/groups/%C2%B9",
        "/projects/%D9%A3",
        "/users/%C2%B2",
        "/audit_events/%C2%B9",
        "/groups/99999999999999999999999",
        "/groups/a%00b",
        "/namespaces/%C2%B9",
    ):
        yield "GET", f"/api/v4{path}", admin, b""
    deep = b'{"d":' * 1_000 + b"{}" + b"}" * 1_000
    event = (
        b'{"event_type": "x", "entity_type": "Instance", "author": {"name": "n"}, "details": '
        + deep
        + b"}"
    )
    yield "POST", "/api/v4/audit_events", {**json, **admin}, event
    yield "POST", "/api/v4/audit_events", {"content-type": "text/plain", **admin}, b"{}"
    yield "POST", "/api/v4/audit_events", {**json, **admin}, b"\x00" * 1_000
    yield "POST", "/api/v4/groups", {**json, **admin}, b'{"name": "a\\u0000", "path": "p"}'
    huge = {**json, **admin, "content-length": str(100 * MEGABYTE)}
    yield "POST", "/api/v4/audit_events", huge, (b" " * MEGABYTE for _ in range(100))
    yield "POST", "/api/v4/audit_events", {**json, **admin}, (b" " * MEGABYTE for _ in range(100))
    yield "GET", f"{GRAPHQL}?query=%7B__typename%7D&variables=%FF", {}, b""
    yield "GET", f"{GRAPHQL}?query={'x' * 20_000}", {}, b""


def run_corpus(base_url: str, admin: dict[str, str]) -> Tally:
    tally = Tally()
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as http:
        for method, path, headers, body in hostile_corpus(admin):
            what = f"{method} {path[:60]}"
            try:
                response = http.request(method, path, headers=headers, content=body)
            except httpx.HTTPError as error:
                tally.failed(what, error)
                continue
            tally.record(response.status_code, what)
            if response.headers.get("content-type", "").startswith("application/json"):
                continue
            if response.status_code >= 400 and len(tally.samples) < 10:
                tally.samples.append(f"not JSON: {response.status_code} {what}")
    return tally


def report(name: str, tally: Tally) -> None:
    print(
        f"{name}: {tally.requests} requests, {tally.server_errors} 5xx, "
        f"{tally.failures} without an answer; statuses {dict(sorted(tally.statuses.items()))}"
    )
    for sample in tally.samples:
        print(f"    {sample}")


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MEGABYTE


async def main(backend: str, examples: int) -> int:
    with tempfile.TemporaryDirectory(prefix="auditwire-fuzz-") as tmp:
        directory = Path(tmp)
        async with (
            fresh_database(backend, directory) as database_url,
            running_server(database_url, directory) as server,
        ):
            admin = {"PRIVATE-TOKEN": server.token}
            before = rss_mb(server.pid)
            print(f"backend {backend}; server RSS before: {before:.1f} MB")
            rest = schemathesis.openapi.from_url(server.url + OPENAPI)
            tallies = {
                "schemathesis REST (admin)": await asyncio.to_thread(
                    fuzz_schema, rest, server.url, admin, examples
                ),
            }
            register_scalars()
            graphql = schemathesis.graphql.from_url(server.url + GRAPHQL)
            tallies["schemathesis GraphQL (admin)"] = await asyncio.to_thread(
                fuzz_schema, graphql, server.url, admin, examples
            )
            tallies["schemathesis GraphQL (anonymous)"] = await asyncio.to_thread(
                fuzz_schema, graphql, server.url, {}, max(1, examples // 5)
            )
            tallies["hostile corpus"] = await asyncio.to_thread(run_corpus, server.url, admin)
            after = rss_mb(server.pid)
            for name, tally in tallies.items():
                report(name, tally)
            total = sum(t.requests for t in tallies.values())
            errors = sum(t.server_errors + t.failures for t in tallies.values())
            print(f"total: {total} requests, {errors} 5xx or unanswered")
            print(f"server RSS before: {before:.1f} MB, after: {after:.1f} MB")
            return 1 if errors else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--examples", type=int, default=25, help="cases per operation")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.backend, args.examples)))
