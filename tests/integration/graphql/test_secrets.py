"""Verification tokens, signing secrets and header values: encrypted at rest, never audited."""

from __future__ import annotations

import sqlalchemy as sa

from auditwire.services.container import Services
from auditwire.store.schema import audit_events, streaming_destinations, streaming_headers
from tests.integration.graphql.conftest import Acme, RunGraphQL

TOKEN = "my-own-verify-token-123"
HEADER_VALUE = "Splunk 0f4c-header-secret"

CREATE = """
mutation($token: String!) {
  externalAuditEventDestinationCreate(input: {
    destinationUrl: "https://siem.example.com/secret", groupPath: "acme",
    verificationToken: $token
  }) { errors externalAuditEventDestination { id verificationToken signingSecret } }
}"""


async def test_secrets_are_ciphertext_in_the_database_and_absent_from_events(
    graphql: RunGraphQL, acme: Acme, services: Services
) -> None:
    created = (await graphql(CREATE, {"token": TOKEN}, as_=acme.owner))["data"][
        "externalAuditEventDestinationCreate"
    ]
    destination = created["externalAuditEventDestination"]
    assert destination["verificationToken"] == TOKEN
    signing_secret = destination["signingSecret"]
    assert signing_secret.startswith("whsec_")
    header = await graphql(
        """mutation($id: AuditEventsExternalAuditEventDestinationID!, $v: String!) {
             auditEventsStreamingHeadersCreate(input: {destinationId: $id, key: "Authorization",
               value: $v}) { errors header { value } } }""",
        {"id": destination["id"], "v": HEADER_VALUE},
        as_=acme.owner,
    )
    assert header["data"]["auditEventsStreamingHeadersCreate"]["header"]["value"] == HEADER_VALUE

    async with services.store.read() as conn:
        [row] = [
            r
            for r in await conn.execute(sa.select(streaming_destinations))
            if r.config["url"] == "https://siem.example.com/secret"
        ]
        header_row = (await conn.execute(sa.select(streaming_headers))).one()
        events = list(await conn.execute(sa.select(audit_events)))

    sealed = [bytes(row.secret_token), bytes(row.signing_secret), bytes(header_row.value)]
    for plaintext, stored in zip([TOKEN, signing_secret, HEADER_VALUE], sealed, strict=True):
        assert plaintext.encode() not in stored
        assert services.box.decrypt(stored) == plaintext
    # Sealing twice gives different bytes: a nonce per secret, nothing to compare across rows.
    assert services.box.encrypt(TOKEN) != services.box.encrypt(TOKEN)

    assert {e.event_type for e in events} >= {
        "create_event_streaming_destination",
        "audit_events_streaming_headers_create",
    }
    for event in events:
        text = repr(event._mapping)
        for secret in (TOKEN, signing_secret, HEADER_VALUE, acme.destination.verification_token):
            assert secret not in text
