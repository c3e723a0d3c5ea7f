"""The composition of auditwire's services over one store."""

from __future__ import annotations

from dataclasses import dataclass

from auditwire.config import Settings
from auditwire.services.events import EventService
from auditwire.services.namespaces import NamespaceService
from auditwire.services.users import UserService
from auditwire.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    users: UserService
    namespaces: NamespaceService
    events: EventService

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Services:
        return cls(
            settings=settings,
            store=store,
            users=UserService(store),
            namespaces=NamespaceService(store, settings.default_plan),
            events=EventService(store),
        )
