"""Composition root: `auditwire serve | worker | migrate | status | users | tokens`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Literal

from auditwire.config import Settings, load_settings
from auditwire.domain.namespaces import User
from auditwire.domain.tokens import TOKEN_PREFIX, Scope, parse_scopes
from auditwire.errors import AuditwireError, NotFound
from auditwire.logs import configure_logging
from auditwire.services.container import Services
from auditwire.services.users import NewToken
from auditwire.store import Store
from auditwire.store.migrate import migrate

INITIAL_TOKEN_FILE = "initial_root_token"
INITIAL_PASSWORD_FILE = "initial_root_password"
LIST_PAGE = 500  # users read per query by `users list`
VALID_SCOPES = ", ".join(scope.value for scope in Scope)
# Where `serve` delivers: nowhere, in its own process, or in a worker process it supervises.
Delivery = Literal[False, True, "process"]


class CommandError(AuditwireError):
    """A command cannot do what was asked; its message is the one line the user sees."""


def scopes_argument(raw: str) -> tuple[Scope, ...]:
    """`--scopes api,read_api`, refused by argparse with the valid scopes named."""
    try:
        return parse_scopes(raw)
    except AuditwireError:
        raise argparse.ArgumentTypeError(
            f"invalid scopes {raw!r} (valid scopes: {VALID_SCOPES})"
        ) from None


def port_number(raw: str) -> int:
    """`--port 8080`: a TCP port, 1 to 65535, refused by argparse otherwise."""
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number (1 to 65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="auditwire", description=__doc__)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also log each database migration applied"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and serve the API")
    serve.add_argument("--host", help="address to listen on (default AUDITWIRE_HOST, 127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, help="port to listen on (default AUDITWIRE_PORT, 8080)"
    )
    delivery = serve.add_mutually_exclusive_group()
    delivery.add_argument(
        "--no-worker",
        action="store_true",
        help="deliver no events (run `auditwire worker` elsewhere)",
    )
    delivery.add_argument(
        "--worker-in-process",
        action="store_true",
        help="deliver in the API's process instead of a delivery process of its own",
    )

    worker = commands.add_parser(
        "worker",
        help="deliver audit events to streaming destinations, without serving the API",
        description="Deliver audit events. On PostgreSQL run as many worker processes as you "
        "like, on any hosts: they share the work. On SQLite run one worker process at most: "
        "none beside `auditwire serve`, which runs one of its own (unless --no-worker).",
    )
    worker.add_argument(
        "--metrics-port",
        type=port_number,
        help="serve this worker's /-/metrics, /-/readiness and /-/health on this port "
        "(default: none)",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address the metrics port listens on (default 127.0.0.1)",
    )
    # The socket `auditwire serve` talks to the worker process it supervises over.
    worker.add_argument("--parent-channel", type=int, help=argparse.SUPPRESS)

    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser(
        "status", help="show the delivery queue and each streaming destination's health"
    )

    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create_user = users.add_parser("create", help="create a user")
    create_user.add_argument("username")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name")
    create_user.add_argument("--admin", action="store_true", help="make the user an administrator")
    users.add_parser("list", help="list users: id, username, name, email, administrator")

    tokens = commands.add_parser("tokens", help="manage personal access tokens").add_subparsers(
        dest="action", required=True
    )
    create_token = tokens.add_parser("create", help="create a token and print it")
    create_token.add_argument("username")
    create_token.add_argument("--name", default="cli")
    create_token.add_argument(
        "--scopes",
        default=(Scope.API,),
        type=scopes_argument,
        help=f"comma-separated, from: {VALID_SCOPES} (default api)",
    )
    create_token.add_argument("--expires-at", type=date.fromisoformat, help="YYYY-MM-DD")
    list_tokens = tokens.add_parser("list", help="list a user's tokens (never their values)")
    list_tokens.add_argument("username")
    revoke_token = tokens.add_parser(
        "revoke",
        help="revoke a token",
        description="Revoke a personal access token, named by its id (as `tokens list` and "
        f"GitLab's API show it) or by the token itself ({TOKEN_PREFIX}...). Audited as "
        "personal_access_token_revoked.",
    )
    revoke_token.add_argument("token", metavar="ID_OR_TOKEN")
    return parser


async def user_named(svc: Services, username: str) -> User:
    """The user, or one line saying there is none."""
    try:
        return await svc.users.get_by_username(username)
    except NotFound:
        raise CommandError(
            f"no user named {username!r} (`auditwire users list` shows them)"
        ) from None


async def _with_services(settings: Settings, action: Callable[[Services], Awaitable[None]]) -> None:
    store = Store(settings.resolved_database_url)
    try:
        await migrate(store)
        await action(Services.build(settings, store))
    finally:
        await store.close()


def write_secret_file(settings: Settings, name: str, value: str) -> Path:
    """Write a secret to the data directory, readable only by the user running auditwire."""
    path = settings.data_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return path


def write_initial_token(settings: Settings, token: NewToken) -> Path:
    return write_secret_file(settings, INITIAL_TOKEN_FILE, token.value)


async def prepare(settings: Settings) -> None:
    """Migrate, and on an empty database create `root` with a token shown once."""

    async def bootstrap(svc: Services) -> None:
        initial = await svc.users.bootstrap_root()
        if initial is not None:
            token_path = write_initial_token(settings, initial.token)
            password_path = write_secret_file(settings, INITIAL_PASSWORD_FILE, initial.password)
            print(f"Created administrator 'root'. Its personal access token: {initial.token.value}")
            print(f"Its password, to sign in at /users/sign_in: {initial.password}")
            print(f"(also written to {token_path} and {password_path}, readable only by you)")

    await _with_services(settings, bootstrap)


def serve(
    settings: Settings, host: str | None, port: int | None, *, worker: Delivery = "process"
) -> None:
    """Serve the API; deliver in a supervised worker process (`"process"`), in this process
    (`True`) or not at all (`False`)."""
    import uvicorn

    from auditwire.api.app import create_app

    asyncio.run(prepare(settings))
    if worker is True:
        hold_worker_slot(settings)
    uvicorn.run(
        create_app(settings, worker=worker),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


def hold_worker_slot(settings: Settings) -> None:
    """On SQLite, take the database's one worker slot for the rest of this process, or stop
    with the reason: a second worker process would only contend for its one writer."""
    from auditwire.store.database import sqlite_file_of
    from auditwire.store.writer_lock import claim_worker_slot

    sqlite_file = sqlite_file_of(settings.resolved_database_url)
    if sqlite_file is not None and claim_worker_slot(sqlite_file) is None:
        raise CommandError(
            f"another worker process delivers from {sqlite_file}: on SQLite run one at "
            "most (`auditwire serve` runs its own unless --no-worker)"
        )


Address = tuple[str, int]


async def deliver(
    settings: Settings, parent_channel: int | None = None, metrics: Address | None = None
) -> None:
    """Run one delivery worker until SIGTERM or SIGINT, then stop it gracefully. With
    `parent_channel`, the worker process of an `auditwire serve`: woken and asked over that
    socket, and stopped when the server goes. With `metrics`, its /-/metrics and
    /-/readiness on that address."""
    from auditwire.crypto import SecretBox, load_or_create_key
    from auditwire.streaming import DeliveryWorker
    from auditwire.streaming.child import serve_parent
    from auditwire.streaming.exposition import start_exposition

    store = Store(settings.resolved_database_url)
    exposition = None
    try:
        await migrate(store)
        hold_worker_slot(settings)
        box = SecretBox(load_or_create_key(settings.secret_key, settings.data_dir))
        worker = DeliveryWorker(settings, store, box)
        if metrics is not None:
            host, port = metrics
            try:
                exposition = await start_exposition(host, port, lambda: worker.running)
            except OSError as error:
                reason = os.strerror(error.errno) if error.errno else str(error)
                raise CommandError(f"cannot serve metrics on {host}:{port}: {reason}") from None
            print(f"auditwire worker metrics at http://{host}:{port}/-/metrics", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await worker.start()
        print("auditwire worker started", flush=True)
        parent = None
        if parent_channel is not None:
            parent = asyncio.create_task(
                serve_parent(parent_channel, worker.wake, lambda: worker.running, stop),
                name="delivery-parent",
            )
        await stop.wait()
        if parent is not None:
            parent.cancel()
        print(f"auditwire worker stopping: {worker.in_flight} requests in flight", flush=True)
        await worker.stop()
        counts = " ".join(f"{key}={value}" for key, value in sorted(worker.stats.items()))
        print(f"auditwire worker stopped: {counts}", flush=True)
    finally:
        if exposition is not None:
            await exposition.cleanup()
        await store.close()


def run_worker(
    settings: Settings, parent_channel: int | None = None, metrics: Address | None = None
) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional: the standard loop works, a little slower
        asyncio.run(deliver(settings, parent_channel, metrics))
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(deliver(settings, parent_channel, metrics))


def run(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging()
    # Alembic logs every migration step at INFO: shown only when asked for with --verbose.
    logging.getLogger("alembic").setLevel(logging.INFO if args.verbose else logging.WARNING)
    if args.command == "serve":
        delivery: Delivery = "process"
        if args.no_worker:
            delivery = False
        elif args.worker_in_process:
            delivery = True
        serve(settings, args.host, args.port, worker=delivery)
    elif args.command == "worker":
        metrics = None if args.metrics_port is None else (args.metrics_host, args.metrics_port)
        run_worker(settings, args.parent_channel, metrics)
    elif args.command == "migrate":

        async def done(_svc: Services) -> None:
            print("database is up to date")

        asyncio.run(_with_services(settings, done))
    elif args.command == "status":
        from auditwire.status import show_status, status_console

        asyncio.run(show_status(settings, status_console()))
    elif args.command == "users":
        asyncio.run(_with_services(settings, USER_ACTIONS[args.action](args)))
    elif args.command == "tokens":
        asyncio.run(_with_services(settings, TOKEN_ACTIONS[args.action](args)))


Action = Callable[[Services], Awaitable[None]]


def create_user(args: argparse.Namespace) -> Action:
    async def action(svc: Services) -> None:
        user = await svc.users.create_user(
            None, username=args.username, email=args.email, name=args.name, is_admin=args.admin
        )
        print(f"created user {user.username} (id {user.id})")

    return action


def list_users(_args: argparse.Namespace) -> Action:
    async def action(svc: Services) -> None:
        print("id\tusername\tname\temail\tadmin\tstate")
        offset, total = 0, 1
        while offset < total:
            users, total = await svc.users.list(username=None, offset=offset, limit=LIST_PAGE)
            for u in users:
                admin = "yes" if u.is_admin else "no"
                print(f"{u.id}\t{u.username}\t{u.name}\t{u.email}\t{admin}\t{u.state}")
            offset += LIST_PAGE

    return action


def create_token(args: argparse.Namespace) -> Action:
    async def action(svc: Services) -> None:
        user = await user_named(svc, args.username)
        token = await svc.users.create_token(
            None, user.id, name=args.name, scopes=args.scopes, expires_at=args.expires_at
        )
        print(token.value)

    return action


def list_tokens(args: argparse.Namespace) -> Action:
    async def action(svc: Services) -> None:
        user = await user_named(svc, args.username)
        print("id\tname\tscopes\texpires_at\trevoked\tcreated_at")
        for t in await svc.users.tokens(user.id):
            expires = t.expires_at.isoformat() if t.expires_at else "never"
            scopes = ",".join(t.scopes)
            revoked = "yes" if t.revoked else "no"
            print(f"{t.id}\t{t.name}\t{scopes}\t{expires}\t{revoked}\t{t.created_at:%Y-%m-%d}")

    return action


def revoke_token(args: argparse.Namespace) -> Action:
    given: str = args.token.strip()

    async def action(svc: Services) -> None:
        by_id = given.isascii() and given.isdigit()
        try:
            if by_id:
                token = await svc.users.revoke_token(None, token_id=int(given))
            else:
                token = await svc.users.revoke_token(None, value=given)
        except NotFound:
            what = f"with id {given}" if by_id else "with that value"
            raise CommandError(f"no personal access token {what}") from None
        print(f"revoked personal access token {token.id} ({token.name})")

    return action


USER_ACTIONS: dict[str, Callable[[argparse.Namespace], Action]] = {
    "create": create_user,
    "list": list_users,
}
TOKEN_ACTIONS: dict[str, Callable[[argparse.Namespace], Action]] = {
    "create": create_token,
    "list": list_tokens,
    "revoke": revoke_token,
}


def main(argv: list[str] | None = None) -> None:
    try:
        run(argv)
    except AuditwireError as error:
        print(f"auditwire: {error.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
