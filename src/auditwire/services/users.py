"""Users and their personal access tokens."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auditwire.domain.events import Author, EntityType, NewAuditEvent, Target, utcnow
from auditwire.domain.namespaces import User, validate_email, validate_name, validate_username
from auditwire.domain.tokens import (
    PersonalAccessToken,
    Scope,
    generate_token,
    token_digest,
    validate_token_name,
)
from auditwire.errors import Conflict, InvalidInput, NotFound, NotSaved, Unauthenticated
from auditwire.services.context import Actor
from auditwire.services.events import record
from auditwire.store import Store
from auditwire.store import sign_ins as sign_ins_store
from auditwire.store import users as users_store

PASSWORD_MIN_LENGTH = 8  # characters
PASSWORD_MAX_LENGTH = 128  # characters, as GitLab's Devise setting
GENERATED_PASSWORD_BYTES = 24  # random bytes in a generated root password
ROOT_USERNAME = "root"
# Failed sign-ins for one login before further attempts are refused for the rest of the window.
SIGN_IN_MAX_FAILURES = 5
SIGN_IN_WINDOW = timedelta(minutes=10)

INVALID_LOGIN = "Invalid login or password."
SIGN_IN_THROTTLED = "Too many failed sign-in attempts. Try again in 10 minutes."
PASSWORD_TOO_SHORT = f"is too short (minimum is {PASSWORD_MIN_LENGTH} characters)"
PASSWORD_TOO_LONG = f"is too long (maximum is {PASSWORD_MAX_LENGTH} characters)"
WRONG_CURRENT_PASSWORD = "You must provide a valid current password"
CONFIRMATION_MISMATCH = "Password confirmation doesn't match Password"


class SignInRefused(Unauthenticated):
    """A sign-in failed; the message never tells which part was wrong."""


def check_password(password: str) -> None:
    """GitLab's length rules, as a model error on `password` (its REST and page wording)."""
    for broken, rule in (
        (len(password) < PASSWORD_MIN_LENGTH, PASSWORD_TOO_SHORT),
        (len(password) > PASSWORD_MAX_LENGTH, PASSWORD_TOO_LONG),
    ):
        if broken:
            raise NotSaved(f"Password {rule}", {"password": [rule]})


def _login_digest(login: str) -> str:
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class InitialRoot:
    """What the first start creates: root's token and generated password, shown once."""

    token: NewToken
    password: str


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
        self._dummy: str | None = None

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
        if password is not None:
            check_password(password)
        password_hash = (
            await asyncio.to_thread(self._hasher.hash, password) if password is not None else None
        )
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

    async def bootstrap_root(self) -> InitialRoot | None:
        """On an empty database: create the administrator `root`, with a generated password
        and a token."""
        async with self.store.read() as conn:
            if await users_store.count_users(conn):
                return None
        password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
        root = await self.create_user(
            None,
            username=ROOT_USERNAME,
            email="root@localhost.localdomain",
            name="Administrator",
            is_admin=True,
            password=password,
        )
        token = await self.create_token(
            None, root.id, name="initial root token", scopes=(Scope.API,)
        )
        return InitialRoot(token, password)

    # Passwords ---------------------------------------------------------------------------------

    async def sign_in(self, login: str, password: str) -> User:
        """The active user whose username or email and password these are. Failures are
        counted per login in the database, so the limit holds across processes."""
        digest = _login_digest(login)
        now = utcnow()
        async with self.store.read() as conn:
            failures = await sign_ins_store.failures_since(conn, digest, now - SIGN_IN_WINDOW)
            found = await users_store.find_sign_in(conn, login.strip())
        if failures >= SIGN_IN_MAX_FAILURES:
            raise SignInRefused(SIGN_IN_THROTTLED)
        user, stored = found if found else (None, None)
        valid = await self._verify(stored, password)
        if user is None or not valid or not user.active:
            async with self.store.write() as conn:
                await sign_ins_store.count_failure(conn, digest, now, SIGN_IN_WINDOW)
            raise SignInRefused(INVALID_LOGIN)
        if failures:
            async with self.store.write() as conn:
                await sign_ins_store.clear_failures(conn, digest)
        return user

    async def set_password(self, actor: Actor, user_id: int, password: str) -> User:
        """An administrator sets a user's password (`PUT /users/:id`)."""
        actor.require_admin()
        actor.require_write()
        check_password(password)
        return await self._store_password(actor, user_id, password)

    async def change_own_password(
        self, actor: Actor, *, current: str, new: str, confirmation: str
    ) -> User:
        """A signed-in user changes their password, proving they know the current one."""
        async with self.store.read() as conn:
            stored = await users_store.password_hash_of(conn, actor.user.id)
        if not await self._verify(stored, current):
            raise NotSaved(WRONG_CURRENT_PASSWORD, {"current_password": [WRONG_CURRENT_PASSWORD]})
        check_password(new)
        if new != confirmation:
            raise NotSaved(
                CONFIRMATION_MISMATCH, {"password_confirmation": ["doesn't match Password"]}
            )
        return await self._store_password(actor, actor.user.id, new)

    async def _store_password(self, actor: Actor, user_id: int, password: str) -> User:
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        async with self.store.write() as conn:
            user = await users_store.get_user(conn, user_id)
            if user is None or not await users_store.set_password_hash(conn, user_id, hashed):
                raise NotFound("404 User Not Found")
            await record(
                conn,
                [
                    NewAuditEvent(
                        event_type="user_password_changed",
                        author=actor.author,
                        entity_type=EntityType.USER,
                        entity_id=user.id,
                        entity_path=user.username,
                        target=Target(user.id, "User", user.username),
                        ip_address=actor.ip_address,
                        custom_message="Changed password",
                    )
                ],
            )
        return user

    async def _verify(self, stored: str | None, password: str) -> bool:
        """argon2 verification off the event loop; without a hash, a dummy one of equal cost,
        so that timing does not tell whether the login exists."""
        target = stored or self._dummy_hash()
        try:
            return await asyncio.to_thread(self._hasher.verify, target, password) and bool(stored)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy
