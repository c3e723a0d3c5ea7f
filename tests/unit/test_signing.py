from __future__ import annotations

from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from auditwire.domain.signing import new_signing_secret, sign, signing_key


def test_signatures_verify_with_the_standard_webhooks_library() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    body = b'{"id":42,"event_type":"group_created"}'
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": "42",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(signing_key(secret), "42", timestamp, body),
    }
    assert Webhook(secret).verify(body, headers) == {"id": 42, "event_type": "group_created"}


def test_a_tampered_body_fails_verification() -> None:
    secret = new_signing_secret()
    timestamp = int(datetime.now(UTC).timestamp())
    signature = sign(signing_key(secret), "1", timestamp, b'{"id":1}')
    headers = {
        "webhook-id": "1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"id":2}', headers)


def test_the_key_is_the_base64_part_after_the_prefix() -> None:
    assert (
        signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        == Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")._whsecret
    )
    # The Standard Webhooks specification's own example.
    assert (
        sign(
            signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
