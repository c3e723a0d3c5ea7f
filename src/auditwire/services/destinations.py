"""Managing streaming destinations of every category, each change audited.

Who may: for a group's destinations, an Owner of the group (inherited ownership counts) or an
instance administrator — GitLab gives administrators owner rights on every group — and only
while the top-level group's plan is Ultimate. Destinations live on top-level groups only. For
the instance's destinations, administrators only. Everyone else learns nothing: a destination
they may not manage is indistinguishable from one that does not exist.

One model serves both APIs: the consolidated one (`create`, `update`, `delete`: a category
and its config) and the legacy HTTP family (`create_group_destination` and the rest), which is
the consolidated model with category http, worded as GitLab's older API words it (see
`domain.destination_events.Family`). Every change records GitLab's audit event in the same
transaction; events never carry a secret token, a signing secret, a header value or URL
credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.config import Plan
from auditwire.crypto import SecretBox
from auditwire.domain import categories
from auditwire.domain import destinations as rules
from auditwire.domain.categories import HTTP, CategoryRules
from auditwire.domain.destination_events import (
    CONSOLIDATED,
    LEGACY_HTTP,
    Family,
)
from auditwire.domain.destinations import Destination
from auditwire.domain.events import utcnow
from auditwire.domain.namespaces import Group
from auditwire.domain.owner import Owner, OwnerKind
from auditwire.domain.signing import new_signing_secret
from auditwire.errors import InvalidInput
from auditwire.services.context import Actor
from auditwire.services.destination_access import audit, not_available
from auditwire.services.destination_parts import DestinationParts
from auditwire.services.url_safety import UrlSafety
from auditwire.store import Store
from auditwire.store import destinations as dest_store

Headers = dict[str, tuple[str, bool]]  # an http destination's headers: {key: (value, active)}


@dataclass(frozen=True, slots=True)
class _Settings:
    """A destination's settings as validated, before they are written."""

    rules: CategoryRules
    config: dict[str, Any]  # without an http destination's headers
    headers: Headers | None  # None: keep the stored ones


class DestinationService(DestinationParts):
    def __init__(
        self, store: Store, box: SecretBox, default_plan: Plan, url_safety: UrlSafety
    ) -> None:
        super().__init__(store, box, default_plan)
        self.url_safety = url_safety

    # Owners -----------------------------------------------------------------------------------

    async def group_owner(self, actor: Actor | None, group_path: str) -> Owner:
        """The top-level group at `group_path`, when the actor may manage its destinations."""
        async with self.store.read() as conn:
            return await self.access.group_owner(conn, actor, group_path)

    def instance_owner(self, actor: Actor | None) -> Owner:
        """The instance, when the actor (an administrator) may manage its destinations."""
        return self.access.instance_owner(actor)

    # Reading ----------------------------------------------------------------------------------

    async def group_destinations(
        self, actor: Actor | None, group: Group, category: str | None = None
    ) -> list[Destination] | None:
        """The group's destinations (of one category when given), or None when the actor may
        not see them."""
        async with self.store.read() as conn:
            if not await self.access.may_manage(conn, actor, group):
                return None
            return await dest_store.list_destinations(conn, self.box, Owner.of(group), category)

    async def instance_destinations(
        self, actor: Actor | None, category: str | None = None
    ) -> list[Destination] | None:
        if not rules.may_manage_instance_destinations(actor.user if actor else None):
            return None
        async with self.store.read() as conn:
            return await dest_store.list_destinations(conn, self.box, Owner.instance(), category)

    async def get(
        self, actor: Actor | None, destination_id: int, *, kind: OwnerKind | None = None
    ) -> tuple[Destination, Owner]:
        """A destination the actor may manage, with its owner; Forbidden when not."""
        if actor is None:
            raise not_available()
        async with self.store.read() as conn:
            return await self.access.destination(conn, actor, destination_id, kind)

    # The consolidated API ---------------------------------------------------------------------

    async def create(
        self,
        actor: Actor | None,
        owner: Owner,
        *,
        category: str,
        config: Mapping[str, Any],
        name: str | None = None,
        secret_token: str | None = None,
        family: Family = CONSOLIDATED,
    ) -> Destination:
        """A new destination of `category`; `config` checked by the category's rules."""
        writer = self.access.writer(actor, owner.kind)
        settings = self._settings(categories.rules_for(category), config, replace_headers=True)
        token = self._secret(settings.rules, secret_token, required=True)
        assert token is not None  # required above
        await self._check_urls(settings.rules, settings.config)
        return await self._create(writer, owner, settings, name, token, family)

    async def update(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind | None = None,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        category: str | None = None,
        secret_token: str | None = None,
        active: bool | None = None,
        family: Family = CONSOLIDATED,
    ) -> Destination:
        """Change what is given; `config` replaces the whole config (an http destination's
        headers included). A changed config, category or secret resets the circuit."""
        writer = self.access.writer(actor, kind)
        # Authorize before validating: only those who may change it learn the rules, and
        # nobody else can make auditwire resolve names.
        async with self.store.read() as conn:
            current, _ = await self.access.destination(conn, writer, destination_id, kind)
        settings: _Settings | None = None
        if config is not None or (category is not None and category != current.category):
            new_rules = categories.rules_for(category or current.category)
            settings = self._settings(
                new_rules, current.config if config is None else config, replace_headers=True
            )
            if config is None:  # a category change alone keeps no headers of the old kind
                settings = _Settings(settings.rules, settings.config, {})
            await self._check_urls(new_rules, settings.config, current.config)
        if secret_token is not None:
            self._secret(categories.rules_for(category or current.category), secret_token)
        elif settings is not None and settings.rules.name == HTTP != current.category:
            categories.validate_http_token(current.secret_token)
        if name is not None:
            rules.validate_name(name)
        return await self._update(
            writer, destination_id, kind, settings, name, secret_token, active, family
        )

    async def delete(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind | None = None,
        family: Family = CONSOLIDATED,
    ) -> None:
        writer = self.access.writer(actor, kind)
        async with self.store.write() as conn:
            destination, owner = await self.access.destination(
                conn, writer, destination_id, kind, family.category
            )
            await audit(
                conn,
                writer,
                owner,
                destination,
                family.event_type("destroy", owner),
                _lifecycle("Destroy", owner, destination, family),
            )
            await dest_store.delete_destination(conn, destination.id)

    # The legacy HTTP API ----------------------------------------------------------------------

    async def create_group_destination(
        self,
        actor: Actor | None,
        *,
        group_path: str,
        destination_url: str,
        name: str | None = None,
        verification_token: str | None = None,
    ) -> Destination:
        self.access.writer(actor, OwnerKind.GROUP)
        owner = await self.group_owner(actor, group_path)
        token = (
            None
            if verification_token is None
            else rules.validate_verification_token(verification_token)
        )
        return await self._create_legacy(actor, owner, destination_url, name, token)

    async def create_instance_destination(
        self, actor: Actor | None, *, destination_url: str, name: str | None = None
    ) -> Destination:
        self.access.writer(actor, OwnerKind.INSTANCE)
        return await self._create_legacy(
            actor, self.instance_owner(actor), destination_url, name, None
        )

    async def update_destination(
        self,
        actor: Actor | None,
        destination_id: int,
        *,
        kind: OwnerKind,
        destination_url: str | None = None,
        name: str | None = None,
        active: bool | None = None,
    ) -> Destination:
        writer = self.access.writer(actor, kind)
        async with self.store.read() as conn:
            current, _ = await self.access.destination(conn, writer, destination_id, kind, HTTP)
        settings = None
        if name is not None:
            rules.validate_name(name)
        if destination_url is not None:
            await self.url_safety.check(destination_url)
            rules.check_authorization(destination_url, [h.key for h in current.headers])
            config = {**current.config, "url": destination_url}
            settings = _Settings(categories.rules_for(current.category), config, None)
        return await self._update(
            writer, destination_id, kind, settings, name, None, active, LEGACY_HTTP
        )

    async def destroy_destination(
        self, actor: Actor | None, destination_id: int, *, kind: OwnerKind
    ) -> None:
        await self.delete(actor, destination_id, kind=kind, family=LEGACY_HTTP)

    async def _create_legacy(
        self,
        actor: Actor | None,
        owner: Owner,
        url: str,
        name: str | None,
        token: str | None,
    ) -> Destination:
        writer = self.access.writer(actor, owner.kind)
        await self.url_safety.check(url)
        settings = _Settings(categories.HTTP_RULES, {"url": url}, {})
        secret = token if token is not None else rules.generate_verification_token()
        return await self._create(writer, owner, settings, name, secret, LEGACY_HTTP)

    # The shared core --------------------------------------------------------------------------

    def _settings(
        self, category: CategoryRules, config: Mapping[str, Any], *, replace_headers: bool
    ) -> _Settings:
        checked = category.validate_config(config)
        headers: Headers | None = None
        if category.name == HTTP:
            given = checked.pop("headers", None) or {}
            headers = {}
            for key, header in given.items():
                if key.strip().lower() == rules.STREAMING_TOKEN_HEADER.lower():
                    raise InvalidInput(categories.PROTECTED_HEADER, "config")
                rules.validate_header(key, header["value"])
                headers[key] = (header["value"], bool(header.get("active", True)))
            rules.check_authorization(checked["url"], list(headers))
        return _Settings(category, checked, headers if replace_headers else None)

    @staticmethod
    def _secret(
        category: CategoryRules, secret: str | None, *, required: bool = False
    ) -> str | None:
        """The secret token to store: an http destination's own (16 to 24 characters) or a
        generated one; the secret of another kind, required."""
        if category.name == HTTP:
            if secret is None or secret == "":
                return rules.generate_verification_token() if required else None
            return categories.validate_http_token(secret)
        return category.validate_secret(secret)

    async def _check_urls(
        self,
        category: CategoryRules,
        config: Mapping[str, Any],
        before: Mapping[str, Any] | None = None,
    ) -> None:
        """The URL guard on each URL of the config that is new."""
        for key in category.url_keys:
            url = config.get(key)
            if isinstance(url, str) and (before is None or before.get(key) != url):
                await self.url_safety.check(url)

    async def _create(
        self,
        actor: Actor,
        owner: Owner,
        settings: _Settings,
        name: str | None,
        secret_token: str,
        family: Family,
    ) -> Destination:
        name = rules.default_name() if name is None or name == "" else rules.validate_name(name)
        category = settings.rules.name
        async with self.store.write() as conn:
            await self._check_owner_rules(conn, owner, settings, name, family, None)
            if (
                await dest_store.count_active(conn, owner, category)
                >= rules.MAX_ACTIVE_DESTINATIONS
            ):
                raise InvalidInput(rules.TOO_MANY_DESTINATIONS)
            now = utcnow()
            destination_id = await dest_store.insert_destination(
                conn,
                self.box,
                owner=owner,
                category=category,
                name=name,
                config=settings.config,
                secret_token=secret_token,
                signing_secret=new_signing_secret(),
                now=now,
            )
            if settings.headers:
                await dest_store.replace_headers(
                    conn, self.box, destination_id, settings.headers, now
                )
            destination = await self._reload(conn, destination_id)
            await audit(
                conn,
                actor,
                owner,
                destination,
                family.event_type("create", owner),
                _lifecycle("Create", owner, destination, family),
            )
        return destination

    async def _update(
        self,
        actor: Actor,
        destination_id: int,
        kind: OwnerKind | None,
        settings: _Settings | None,
        name: str | None,
        secret_token: str | None,
        active: bool | None,
        family: Family,
    ) -> Destination:
        async with self.store.write() as conn:
            destination, owner = await self.access.destination(
                conn, actor, destination_id, kind, family.category
            )
            changes: dict[str, Any] = {}
            if settings is not None:
                if settings.rules.name != destination.category:
                    changes["category"] = settings.rules.name
                if settings.config != destination.config:
                    changes["config"] = settings.config
            if name is not None and name != destination.name:
                changes["name"] = name
            if active is not None and active != destination.active:
                changes["active"] = active
            headers = settings.headers if settings is not None else None
            new_headers = headers is not None and headers != {
                h.key: (h.value, h.active) for h in destination.headers
            }
            new_secret = secret_token is not None and secret_token != destination.secret_token
            if not changes and not new_headers and not new_secret:
                return destination
            category = changes.get("category", destination.category)
            if "config" in changes or "category" in changes or "name" in changes:
                check = settings or _Settings(
                    categories.rules_for(category), dict(destination.config), None
                )
                await self._check_owner_rules(
                    conn, owner, check, changes.get("name"), family, destination.id
                )
            becomes_active = changes.get("active", False) or (
                "category" in changes and changes.get("active", destination.active)
            )
            if becomes_active and (
                await dest_store.count_active(conn, owner, category)
                >= rules.MAX_ACTIVE_DESTINATIONS
            ):
                raise InvalidInput(rules.TOO_MANY_DESTINATIONS)
            now = utcnow()
            if changes:
                await dest_store.update_destination(conn, destination.id, now, **changes)
            if new_headers and headers is not None:
                await dest_store.replace_headers(conn, self.box, destination.id, headers, now)
            if new_secret and secret_token is not None:
                await dest_store.set_secret_token(conn, self.box, destination.id, secret_token, now)
            if new_headers or new_secret or "config" in changes or "category" in changes:
                await dest_store.reset_health(conn, destination.id, now)
            updated = await self._reload(conn, destination.id)
            for field, before, after in _described(destination, updated, changes, family):
                await audit(
                    conn,
                    actor,
                    owner,
                    updated,
                    family.event_type("update", owner),
                    f"Changed {field} from {before} to {after}",
                    {"change": field, "from": before, "to": after},
                )
            if new_headers:
                await audit(
                    conn,
                    actor,
                    owner,
                    updated,
                    family.event_type("update", owner),
                    "Changed config headers",
                    {"change": "headers"},  # names only: header values are secrets
                )
            if new_secret:
                await audit(
                    conn,
                    actor,
                    owner,
                    updated,
                    family.event_type("update", owner),
                    "Changed secret_token",
                    {"change": "secret_token"},
                )
        return updated

    async def _check_owner_rules(
        self,
        conn: AsyncConnection,
        owner: Owner,
        settings: _Settings,
        name: str | None,
        family: Family,
        except_id: int | None,
    ) -> None:
        """Refuse config values or a name the owner already uses; the owner's rules stay
        locked for the rest of the transaction, so the active count checked after holds."""
        await dest_store.lock_owner(conn, owner)
        keys = settings.rules.unique_keys
        for other in await dest_store.configs_of(
            conn, owner, settings.rules.name, except_id=except_id
        ):
            if all(other.get(k) == settings.config.get(k) for k in keys):
                raise InvalidInput(family.taken(keys), "config")
        if name is not None and await dest_store.name_taken(conn, owner, name, except_id):
            raise InvalidInput(rules.NAME_TAKEN, "name")

    async def _reload(self, conn: AsyncConnection, destination_id: int) -> Destination:
        destination = await dest_store.get_destination(conn, self.box, destination_id)
        assert destination is not None  # written in this transaction
        return destination


def _described(
    before: Destination, after: Destination, changes: dict[str, Any], family: Family
) -> list[tuple[str, Any, Any]]:
    """(field, from, to) of each change an update event names; URLs masked, and a config
    shown by its keys only (values may be secrets, as URLs' queries are)."""
    described: list[tuple[str, Any, Any]] = []
    for field in changes:
        if field == "config":
            if before.category == after.category == HTTP:
                described.append(
                    (
                        family.url_field,
                        rules.mask_url(before.destination_url),
                        rules.mask_url(after.destination_url),
                    )
                )
            else:
                described.append(("config", sorted(before.config), sorted(after.config)))
        else:
            described.append((field, getattr(before, field), getattr(after, field)))
    return described


def _lifecycle(action: str, owner: Owner, destination: Destination, family: Family) -> str:
    """`Create event streaming destination <url>`: an http destination by its URL (masked),
    another by its name; the legacy API names the instance's."""
    what = rules.mask_url(destination.destination_url) or destination.name
    prefix = "instance " if owner.is_instance and family is LEGACY_HTTP else ""
    return f"{action} {prefix}event streaming destination {what}"
