"""The composition of auditwire's services over one store."""

from __future__ import annotations

from dataclasses import dataclass

from auditwire.config import Settings
from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.services.events import EventService
from auditwire.services.ingest import IngestService
from auditwire.services.namespaces import NamespaceService
from auditwire.services.users import UserService
from auditwire.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: Store
    box: SecretBox
    users: UserService
    namespaces: NamespaceService
    events: EventService
    ingest: IngestService

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Services:
        return cls(
            settings=settings,
            store=store,
            box=SecretBox(load_or_create_key(settings.secret_key, settings.data_dir)),
            users=UserService(store),
            namespaces=NamespaceService(store, settings.default_plan),
            events=EventService(store),
            ingest=IngestService(store),
        )
