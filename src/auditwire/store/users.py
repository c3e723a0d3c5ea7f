"""Users and personal access tokens."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from auditwire.domain.events import as_utc
from auditwire.domain.namespaces import User
from auditwire.domain.tokens import PersonalAccessToken, Scope
from auditwire.store.schema import personal_access_tokens, users


def user_from_row(row: sa.Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        username=m["username"],
        name=m["name"],
        email=m["email"],
        is_admin=m["is_admin"],
        state=m["state"],
        created_at=as_utc(m["created_at"]),
    )


def token_from_row(row: sa.Row[tuple[object, ...]]) -> PersonalAccessToken:
    m = row._mapping
    return PersonalAccessToken(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        scopes=tuple(Scope(s) for s in m["scopes"].split(",")),
        expires_at=m["expires_at"],
        revoked=m["revoked"],
        created_at=as_utc(m["created_at"]),
    )


_USER_COLUMNS = [c for c in users.c if c.name != "password_hash"]


async def insert_user(
    conn: AsyncConnection,
    *,
    username: str,
    name: str,
    email: str,
    is_admin: bool,
    password_hash: str | None,
    now: datetime,
) -> User:
    row = (
        await conn.execute(
            users.insert()
            .values(
                username=username,
                name=name,
                email=email,
                is_admin=is_admin,
                state="active",
                password_hash=password_hash,
                created_at=now,
            )
            .returning(*_USER_COLUMNS)
        )
    ).one()
    return user_from_row(row)


async def get_user(conn: AsyncConnection, user_id: int) -> User | None:
    row = (await conn.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id))).first()
    return user_from_row(row) if row else None


async def get_user_by_username(conn: AsyncConnection, username: str) -> User | None:
    query = sa.select(*_USER_COLUMNS).where(sa.func.lower(users.c.username) == username.lower())
    row = (await conn.execute(query)).first()
    return user_from_row(row) if row else None


async def username_or_email_taken(conn: AsyncConnection, username: str, email: str) -> str | None:
    """Which of the two is taken already ('username' or 'email'), case-insensitively."""
    query = sa.select(users.c.username, users.c.email).where(
        sa.or_(
            sa.func.lower(users.c.username) == username.lower(),
            sa.func.lower(users.c.email) == email.lower(),
        )
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return "username" if row.username.lower() == username.lower() else "email"


async def list_users(
    conn: AsyncConnection, *, username: str | None, offset: int, limit: int
) -> tuple[list[User], int]:
    where = sa.true() if username is None else sa.func.lower(users.c.username) == username.lower()
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(users).where(where))
    ).scalar_one()
    query = sa.select(*_USER_COLUMNS).where(where).order_by(users.c.id).offset(offset).limit(limit)
    return [user_from_row(r) for r in await conn.execute(query)], total


async def count_users(conn: AsyncConnection) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one()


async def insert_token(
    conn: AsyncConnection,
    *,
    user_id: int,
    name: str,
    digest: str,
    scopes: tuple[Scope, ...],
    expires_at: date | None,
    now: datetime,
) -> PersonalAccessToken:
    row = (
        await conn.execute(
            personal_access_tokens.insert()
            .values(
                user_id=user_id,
                name=name,
                token_digest=digest,
                scopes=",".join(scopes),
                expires_at=expires_at,
                revoked=False,
                created_at=now,
            )
            .returning(*personal_access_tokens.c)
        )
    ).one()
    return token_from_row(row)


async def find_token(conn: AsyncConnection, digest: str) -> tuple[PersonalAccessToken, User] | None:
    query = (
        sa.select(*personal_access_tokens.c, *[c.label(f"u_{c.name}") for c in _USER_COLUMNS])
        .join(users, users.c.id == personal_access_tokens.c.user_id)
        .where(personal_access_tokens.c.token_digest == digest)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    m = row._mapping
    user = User(
        id=m["u_id"],
        username=m["u_username"],
        name=m["u_name"],
        email=m["u_email"],
        is_admin=m["u_is_admin"],
        state=m["u_state"],
        created_at=as_utc(m["u_created_at"]),
    )
    return token_from_row(row), user


async def get_token(conn: AsyncConnection, token_id: int) -> PersonalAccessToken | None:
    query = sa.select(*personal_access_tokens.c).where(personal_access_tokens.c.id == token_id)
    row = (await conn.execute(query)).first()
    return token_from_row(row) if row else None


async def list_tokens(conn: AsyncConnection, user_id: int) -> list[PersonalAccessToken]:
    query = (
        sa.select(*personal_access_tokens.c)
        .where(personal_access_tokens.c.user_id == user_id)
        .order_by(personal_access_tokens.c.id)
    )
    return [token_from_row(row) for row in await conn.execute(query)]


async def revoke_token(conn: AsyncConnection, token_id: int) -> None:
    await conn.execute(
        personal_access_tokens.update()
        .where(personal_access_tokens.c.id == token_id)
        .values(revoked=True)
    )


async def password_hash_of(conn: AsyncConnection, user_id: int) -> str | None:
    query = sa.select(users.c.password_hash).where(users.c.id == user_id)
    value: str | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def find_sign_in(conn: AsyncConnection, login: str) -> tuple[User, str | None] | None:
    """The user whose username or email is `login` (case-insensitively), with its hash."""
    lowered = login.lower()
    query = sa.select(users).where(
        sa.or_(sa.func.lower(users.c.username) == lowered, sa.func.lower(users.c.email) == lowered)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return user_from_row(row), row._mapping["password_hash"]


async def set_password_hash(conn: AsyncConnection, user_id: int, password_hash: str) -> bool:
    result = await conn.execute(
        users.update().where(users.c.id == user_id).values(password_hash=password_hash)
    )
    return bool(result.rowcount)
