"""Fixtures shared by every test: databases on both backends, the app, users and tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from auditwire.api.app import create_app
from auditwire.config import Plan, Settings, async_database_url
from auditwire.domain.namespaces import User
from auditwire.domain.tokens import Scope
from auditwire.services.container import Services
from auditwire.store import Store
from tests.databases import (
    PostgresTemplate,
    SqliteTemplate,
    postgres_available,
    postgres_required,
    run_blocking,
)
from tests.live import LiveServer
from tests.moto import bucket, s3_server  # noqa: F401  (moto_server, for sinks' and pages' tests)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    template = SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))
    template.create()
    return template


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[PostgresTemplate]:
    reason = run_blocking(postgres_available())
    if reason is not None:
        if postgres_required():
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    template = PostgresTemplate()
    run_blocking(template.create())
    yield template
    run_blocking(template.drop())


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each backend (plain URL, no driver)."""
    if backend == "sqlite":
        yield request.getfixturevalue("sqlite_template").clone(tmp_path)
        return
    template: PostgresTemplate = request.getfixturevalue("postgres_template")
    url = run_blocking(template.clone())
    yield url
    run_blocking(template.drop(url.rsplit("/", 1)[1]))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        default_plan=Plan.ULTIMATE,
        allow_local_requests=True,
        secret_key="",
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = Store(async_database_url(settings.database_url))
    yield store
    await store.close()


@pytest.fixture
def services(settings: Settings, store: Store) -> Services:
    return Services.build(settings, store)


@pytest.fixture
async def client(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to the app in this process (no socket)."""
    app = create_app(settings, store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auditwire.test") as http:
        yield http


@dataclass(frozen=True)
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token}


MakeAccount = Callable[..., Awaitable[Account]]


@pytest.fixture
def make_account(services: Services) -> MakeAccount:
    """Create a user with a token: `await make_account("alice", admin=False, scopes=...)`."""

    async def make(
        username: str, *, admin: bool = False, scopes: tuple[Scope, ...] = (Scope.API,)
    ) -> Account:
        user = await services.users.create_user(
            None, username=username, email=f"{username}@example.com", is_admin=admin
        )
        token = await services.users.create_token(None, user.id, name="test", scopes=scopes)
        return Account(user, token.value)

    return make


@pytest.fixture
async def root(make_account: MakeAccount) -> Account:
    """The instance administrator."""
    return await make_account("root", admin=True)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """auditwire served over real HTTP on a loopback port, in a thread of its own."""
    server = LiveServer(settings)
    server.start()
    yield server
    server.stop()
