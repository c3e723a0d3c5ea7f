"""Users and their personal access tokens."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from argon2 import PasswordHasher

from auditwire.domain.events import Author, EntityType, NewAuditEvent, Target, utcnow
from auditwire.domain.namespaces import User, validate_email, validate_name, validate_username
from auditwire.domain.tokens import (
    PersonalAccessToken,
    Scope,
    generate_token,
    token_digest,
    validate_token_name,
)
from auditwire.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from auditwire.services.context import Actor
from auditwire.services.events import record
from auditwire.store import Store
from auditwire.store import users as users_store

PASSWORD_MIN_LENGTH = 8  # characters
ROOT_USERNAME = "root"


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token as created: the only time its secret value exists outside the caller."""

    token: PersonalAccessToken
    value: str


def token_event(
    actor: Actor | None, user: User, token: PersonalAccessToken, change: str, verb: str
) -> NewAuditEvent:
    """`personal_access_token_<change>` about `user`; from the command line (no actor) the
    user is the author, as for the first start."""
    return NewAuditEvent(
        event_type=f"personal_access_token_{change}",
        author=actor.author if actor else Author(id=user.id, name=user.name),
        entity_type=EntityType.USER,
        entity_id=user.id,
        entity_path=user.username,
        target=Target(token.id, "PersonalAccessToken", token.name),
        ip_address=actor.ip_address if actor else None,
        custom_message=f"{verb} personal access token with id {token.id}",
    )


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._hasher = PasswordHasher()

    async def create_user(
        self,
        actor: Actor | None,
        *,
        username: str,
        email: str,
        name: str | None = None,
        is_admin: bool = False,
        password: str | None = None,
    ) -> User:
        """Create a user; `actor` is None only for the command line and the first start."""
        if actor is not None:
            actor.require_admin()
            actor.require_write()
        validate_username(username)
        validate_email(email)
        validate_name(name or username)
        if password is not None and len(password) < PASSWORD_MIN_LENGTH:
            raise InvalidInput(
                f"password is too short (minimum is {PASSWORD_MIN_LENGTH} characters)", "password"
            )
        password_hash = self._hasher.hash(password) if password is not None else None
        async with self.store.write() as conn:
            taken = await users_store.username_or_email_taken(conn, username, email)
            if taken:
                raise Conflict(f"{taken.capitalize()} has already been taken")
            user = await users_store.insert_user(
                conn,
                username=username,
                name=name or username,
                email=email,
                is_admin=is_admin,
                password_hash=password_hash,
                now=utcnow(),
            )
            author = actor.author if actor else Author(id=user.id, name=user.name)
            await record(
                conn,
                [
                    NewAuditEvent(
                        event_type="user_created",
                        author=author,
                        entity_type=EntityType.USER,
                        entity_id=user.id,
                        entity_path=user.username,
                        target=Target(user.id, "User", user.username),
                        ip_address=actor.ip_address if actor else None,
                        custom_message=f"User {user.username} created",
                    )
                ],
            )
        return user

    async def create_token(
        self,
        actor: Actor | None,
        user_id: int,
        *,
        name: str,
        scopes: tuple[Scope, ...],
        expires_at: date | None = None,
    ) -> NewToken:
        if actor is not None:
            actor.require_admin()
            actor.require_write()
        validate_token_name(name)
        if expires_at is not None and expires_at <= utcnow().date():
            raise InvalidInput("expires_at must be in the future", "expires_at")
        value = generate_token()
        async with self.store.write() as conn:
            user = await users_store.get_user(conn, user_id)
            if user is None:
                raise NotFound("404 User Not Found")
            token = await users_store.insert_token(
                conn,
                user_id=user.id,
                name=name,
                digest=token_digest(value),
                scopes=scopes,
                expires_at=expires_at,
                now=utcnow(),
            )
            await record(conn, [token_event(actor, user, token, "created", "Created")])
        return NewToken(token, value)

    async def tokens(self, user_id: int) -> list[PersonalAccessToken]:
        """Every personal access token of a user, revoked and expired ones included."""
        async with self.store.read() as conn:
            return await users_store.list_tokens(conn, user_id)

    async def revoke_token(
        self, actor: Actor | None, *, token_id: int | None = None, value: str | None = None
    ) -> PersonalAccessToken:
        """Revoke a token named by its id or by its value, recording the change like creation."""
        if actor is not None:
            actor.require_admin()
            actor.require_write()
        async with self.store.write() as conn:
            token: PersonalAccessToken | None = None
            if token_id is not None:
                token = await users_store.get_token(conn, token_id)
            elif value is not None:
                found = await users_store.find_token(conn, token_digest(value))
                token = found[0] if found else None
            if token is None:
                raise NotFound("404 Personal Access Token Not Found")
            if token.revoked:
                raise InvalidInput("Token already revoked", "token")
            user = await users_store.get_user(conn, token.user_id)
            assert user is not None  # tokens are deleted with their user
            await users_store.revoke_token(conn, token.id)
            await record(conn, [token_event(actor, user, token, "revoked", "Revoked")])
        return replace(token, revoked=True)

    async def authenticate(self, value: str) -> tuple[User, PersonalAccessToken]:
        """The user a token belongs to, if the token is valid, unexpired and unrevoked."""
        async with self.store.read() as conn:
            found = await users_store.find_token(conn, token_digest(value))
        if found is None:
            raise Unauthenticated("401 Unauthorized")
        token, user = found
        if token.revoked or token.expired(utcnow().date()) or not user.active:
            raise Unauthenticated("401 Unauthorized")
        return user, token

    async def get(self, user_id: int) -> User:
        async with self.store.read() as conn:
            user = await users_store.get_user(conn, user_id)
        if user is None:
            raise NotFound("404 User Not Found")
        return user

    async def get_by_username(self, username: str) -> User:
        async with self.store.read() as conn:
            user = await users_store.get_user_by_username(conn, username)
        if user is None:
            raise NotFound("404 User Not Found")
        return user

    async def list(
        self, *, username: str | None, offset: int, limit: int
    ) -> tuple[list[User], int]:
        async with self.store.read() as conn:
            return await users_store.list_users(conn, username=username, offset=offset, limit=limit)

    async def bootstrap_root(self) -> NewToken | None:
        """On an empty database: create the administrator `root` and a token for it."""
        async with self.store.read() as conn:
            if await users_store.count_users(conn):
                return None
        root = await self.create_user(
            None,
            username=ROOT_USERNAME,
            email="root@localhost.localdomain",
            name="Administrator",
            is_admin=True,
        )
        return await self.create_token(
            None, root.id, name="initial root token", scopes=(Scope.API,)
        )
