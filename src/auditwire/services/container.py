"""The composition of auditwire's services over one store."""

from __future__ import annotations

from dataclasses import dataclass

from auditwire.config import Settings
from auditwire.crypto import SecretBox, load_or_create_key
from auditwire.services.delivery import DeliveryService
from auditwire.services.destinations import DestinationService
from auditwire.services.events import EventService
from auditwire.services.ingest import IngestService
from auditwire.services.namespaces import NamespaceService
from auditwire.services.url_safety import UrlSafety
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
    destinations: DestinationService
    ingest: IngestService
    delivery: DeliveryService

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Services:
        box = SecretBox(load_or_create_key(settings.secret_key, settings.data_dir))
        destinations = DestinationService(
            store,
            box,
            settings.default_plan,
            UrlSafety(allow_local_requests=settings.allow_local_requests),
        )
        return cls(
            settings=settings,
            store=store,
            box=box,
            users=UserService(store),
            namespaces=NamespaceService(store, settings.default_plan),
            events=EventService(store),
            destinations=destinations,
            delivery=DeliveryService(settings, store, box, destinations),
            ingest=IngestService(store),
        )
