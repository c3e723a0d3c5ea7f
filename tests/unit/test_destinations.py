from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditwire.config import Plan
from auditwire.domain import destinations as rules
from auditwire.domain.namespaces import AccessLevel, User
from auditwire.errors import InvalidInput


def user(*, admin: bool = False) -> User:
    return User(1, "u", "U", "u@example.com", admin, "active", datetime(2024, 1, 1, tzinfo=UTC))


def test_generated_tokens_are_24_base58_characters_and_differ() -> None:
    tokens = {rules.generate_verification_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) == 24
        assert set(token) <= set(rules.BASE58_ALPHABET)
    assert not set("0OIl") & set(rules.BASE58_ALPHABET)


def test_default_name_is_destination_and_a_uuid() -> None:
    name = rules.default_name()
    assert name.startswith("Destination_")
    assert len(name) == len("Destination_") + 36
    assert len(name) <= rules.NAME_MAX_LENGTH


@pytest.mark.parametrize("length", [16, 20, 24])
def test_callers_token_of_16_to_24_characters_is_kept(length: int) -> None:
    token = "x" * (length - 1) + " "
    assert rules.validate_verification_token(token) == token


@pytest.mark.parametrize(
    ("length", "message"),
    [(15, rules.TOKEN_TOO_SHORT), (25, rules.TOKEN_TOO_LONG), (0, rules.TOKEN_TOO_SHORT)],
)
def test_callers_token_outside_16_to_24_is_refused(length: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        rules.validate_verification_token("x" * length)


@pytest.mark.parametrize(
    ("admin", "level", "plan", "allowed"),
    [
        (False, AccessLevel.OWNER, Plan.ULTIMATE, True),
        (False, AccessLevel.OWNER, Plan.PREMIUM, False),
        (False, AccessLevel.OWNER, Plan.FREE, False),
        (False, AccessLevel.MAINTAINER, Plan.ULTIMATE, False),
        (False, AccessLevel.NO_ACCESS, Plan.ULTIMATE, False),
        (True, AccessLevel.NO_ACCESS, Plan.ULTIMATE, True),
        (True, AccessLevel.NO_ACCESS, Plan.FREE, True),
        (True, AccessLevel.NO_ACCESS, Plan.PREMIUM, True),
    ],
)
def test_group_destinations_need_an_owner_on_ultimate_or_an_admin(
    admin: bool, level: AccessLevel, plan: Plan, allowed: bool
) -> None:
    assert rules.may_manage_group_destinations(user(admin=admin), level, plan) is allowed
    assert rules.may_manage_group_destinations(None, level, plan) is False


def test_instance_destinations_need_an_admin() -> None:
    assert rules.may_manage_instance_destinations(user(admin=True))
    assert not rules.may_manage_instance_destinations(user())
    assert not rules.may_manage_instance_destinations(None)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("X-Gitlab-Event-Streaming-Token", "v", rules.HEADER_KEY_RESERVED),
        (" x-gitlab-event-streaming-token ", "v", rules.HEADER_KEY_RESERVED),
        ("", "v", rules.HEADER_KEY_BLANK),
        ("k" * 256, "v", rules.HEADER_KEY_TOO_LONG),
        ("K", " ", rules.HEADER_VALUE_BLANK),
        ("K", "v" * 2001, rules.HEADER_VALUE_TOO_LONG),
    ],
)
def test_header_rules(key: str, value: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.validate_header(key, value)
    assert caught.value.message == message


def test_header_at_the_limits_is_accepted() -> None:
    rules.validate_header("k" * 255, "v" * 2000)


def test_event_types_are_deduplicated_in_order_and_must_be_present() -> None:
    assert rules.validate_event_types(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(InvalidInput, match="event type filters must be present"):
        rules.validate_event_types([])


def test_unknown_event_types_are_listed_in_gitlabs_words() -> None:
    error = rules.unknown_event_types(["a", "x", "y"], ["a", "b"])
    assert error is not None
    assert error.message == "Couldn't find event type filters where audit event type(s): x, y"
    assert rules.unknown_event_types(["a"], ["a"]) is None


@pytest.mark.parametrize(
    ("filter_path", "entity_path", "is_project", "matches"),
    [
        ("acme/team", "acme/team", False, True),
        ("acme/team", "acme/team/app", False, True),
        ("acme/team", "acme/teamwork", False, False),
        ("acme/team/app", "acme/team/app", True, True),
        ("acme/team/app", "acme/team/app2", True, False),
    ],
)
def test_namespace_filter_matches_its_subtree_or_its_project(
    filter_path: str, entity_path: str, is_project: bool, matches: bool
) -> None:
    assert rules.matches_namespace(filter_path, entity_path, is_project) is matches
