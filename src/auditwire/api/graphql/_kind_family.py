"""What the per-kind legacy families (Google Cloud Logging, Amazon S3) share: their arguments
checked with the words of GitLab's older models, turned into the consolidated config of the
one destination row they are a view of, and their changes recorded under their own events."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from auditwire.api.graphql._mutation import actor, attempt, destinations, managed
from auditwire.api.graphql.context import Info
from auditwire.domain.destination_events import Family
from auditwire.domain.destinations import TOO_MANY_DESTINATIONS, Destination
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.errors import InvalidInput
from auditwire.services.destination_access import not_available


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a legacy family, the config key it fills and GitLab's rules for it
    (checked in the order GitLab's model declares them: presence, format, length)."""

    key: str  # the config key
    label: str  # the attribute as Rails words it: "Google project id name"
    pattern: re.Pattern[str]
    pattern_message: str
    max_length: int
    min_length: int = 1

    def check(self, value: str) -> None:
        if value.strip() == "":
            raise InvalidInput(f"{self.label} can't be blank", self.key)
        if not self.pattern.search(value):
            raise InvalidInput(f"{self.label} {self.pattern_message}", self.key)
        if len(value) < self.min_length:
            raise InvalidInput(
                f"{self.label} is too short (minimum is {self.min_length} characters)", self.key
            )
        if len(value) > self.max_length:
            raise InvalidInput(
                f"{self.label} is too long (maximum is {self.max_length} characters)", self.key
            )


@dataclass(frozen=True, slots=True)
class KindFamily:
    """A legacy family: its category, its arguments, how it names its secret, its events and
    its words for what it refuses."""

    category: str
    arguments: tuple[Argument, ...]
    secret_label: str  # "Private key"
    events: Family
    limit_message: str

    def config(
        self, values: Mapping[str, str | None], current: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The whole config: the current one (if any) with each given value checked and put
        in; None when nothing of the config is given."""
        given = {a.key: values[a.key] for a in self.arguments if values.get(a.key) is not None}
        if current is not None and not given:
            return None
        for argument in self.arguments:
            value = given.get(argument.key)
            if value is not None or current is None:
                argument.check(value or "")
        return {**(current or {}), **given}

    def check_secret(self, secret: str | None) -> None:
        if secret is not None and secret.strip() == "":
            raise InvalidInput(f"{self.secret_label} can't be blank", "secretToken")

    def reword(self, errors: list[str]) -> list[str]:
        return [self.limit_message if e == TOO_MANY_DESTINATIONS else e for e in errors]

    async def create(
        self,
        info: Info,
        owner: Owner | Awaitable[Owner],
        values: Mapping[str, str | None],
        secret: str,
        name: str | None,
    ) -> tuple[Destination | None, list[str]]:
        async def run() -> Destination:
            resolved = owner if isinstance(owner, Owner) else await owner
            config = self.config(values)
            self.check_secret(secret)
            return await destinations(info).create(
                actor(info),
                resolved,
                category=self.category,
                config=config or {},
                name=name,
                secret_token=secret,
                family=self.events,
            )

        created, errors = await attempt(run())
        return created, self.reword(errors)

    async def update(
        self,
        info: Info,
        destination_id: int,
        kind: OwnerKind,
        values: Mapping[str, str | None],
        *,
        secret: str | None,
        name: str | None,
        active: bool | None,
    ) -> tuple[Destination | None, list[str]]:
        current = await self._found(info, destination_id, kind)

        async def run() -> Destination:
            config = self.config(values, current.config)
            self.check_secret(secret)
            return await destinations(info).update(
                actor(info),
                destination_id,
                kind=kind,
                config=config,
                name=name,
                secret_token=secret,
                active=active,
                family=self.events,
            )

        updated, errors = await attempt(run())
        return updated, self.reword(errors)

    async def delete(self, info: Info, destination_id: int, kind: OwnerKind) -> list[str]:
        await self._found(info, destination_id, kind)
        _, errors = await attempt(
            destinations(info).delete(actor(info), destination_id, kind=kind, family=self.events)
        )
        return errors

    async def _found(self, info: Info, destination_id: int, kind: OwnerKind) -> Destination:
        """The destination; one of another category is not this family's to show."""
        found = await managed(info, destination_id, kind)
        if found.category != self.category:
            raise not_available()
        return found


def events(name: str) -> dict[str, tuple[str, str]]:
    """GitLab's event types of a legacy family: `<name>_created` and `instance_<name>_created`."""
    return {
        action: (f"{name}_{past}", f"instance_{name}_{past}")
        for action, past in (("create", "created"), ("update", "updated"), ("destroy", "deleted"))
    }
