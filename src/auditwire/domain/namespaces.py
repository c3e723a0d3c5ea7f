"""Users, groups, projects and memberships as GitLab models them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum, StrEnum

from auditwire.config import Plan
from auditwire.errors import InvalidInput, NotSaved

PATH_MAX_LENGTH = 255  # characters
NAME_MAX_LENGTH = 255  # characters
_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_USERNAME_RE = _PATH_RE
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RESERVED_SUFFIXES = (".git", ".atom")


class AccessLevel(IntEnum):
    NO_ACCESS = 0
    GUEST = 10
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50

    @classmethod
    def parse(cls, value: object) -> AccessLevel:
        try:
            level = cls(int(str(value)))
        except ValueError:
            raise InvalidInput("access_level does not have a valid value", "access_level") from None
        if level is cls.NO_ACCESS:
            raise InvalidInput("access_level does not have a valid value", "access_level")
        return level


class UserState(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str
    email: str
    is_admin: bool
    state: str
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.state == UserState.ACTIVE


@dataclass(frozen=True, slots=True)
class Group:
    id: int
    parent_id: int | None
    path: str
    name: str
    full_path: str
    description: str
    plan: Plan | None
    created_at: datetime

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None

    @property
    def root_path(self) -> str:
        return self.full_path.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    namespace_id: int
    path: str
    name: str
    full_path: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A user's access to a group or project, direct or inherited from an ancestor group."""

    user: User
    access_level: AccessLevel
    source_type: str  # "Namespace" or "Project"
    source_id: int
    created_at: datetime
    expires_at: date | None


def validate_expires_at(expires_at: date | None, today: date) -> date | None:
    """GitLab's `future_date` validation of a membership's `expires_at`: today or later."""
    if expires_at is not None and expires_at < today:
        raise NotSaved(errors={"expires_at": ["cannot be a date in the past"]})
    return expires_at


def validate_path(path: str, field: str = "path") -> str:
    """Check a group or project path against GitLab's rules; return it unchanged."""
    if not path:
        raise InvalidInput(f"{field} can't be blank", field)
    if len(path) > PATH_MAX_LENGTH:
        raise InvalidInput(f"{field} is too long (maximum is {PATH_MAX_LENGTH} characters)", field)
    if not _PATH_RE.match(path) or path.endswith(("-", ".", *_RESERVED_SUFFIXES)) or ".." in path:
        raise InvalidInput(
            f"{field} can contain only letters, digits, '_', '-' and '.'. "
            "Cannot start with '-', end in '.git' or end in '.atom'",
            field,
        )
    return path


def validate_name(name: str, field: str = "name") -> str:
    if not name or not name.strip():
        raise InvalidInput(f"{field} can't be blank", field)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"{field} is too long (maximum is {NAME_MAX_LENGTH} characters)", field)
    return name


def validate_username(username: str) -> str:
    if not username or len(username) > PATH_MAX_LENGTH or not _USERNAME_RE.match(username):
        raise InvalidInput("username is invalid", "username")
    return username


def validate_email(email: str) -> str:
    if not email or not _EMAIL_RE.match(email):
        raise InvalidInput("email is invalid", "email")
    return email


def ancestor_paths(full_path: str) -> list[str]:
    """`a/b/c` -> [`a`, `a/b`, `a/b/c`]: the group itself and every group above it."""
    parts = full_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
