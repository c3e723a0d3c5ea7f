"""One root error for auditwire; each public error carries the message a user sees."""

from __future__ import annotations


class AuditwireError(Exception):
    """Root of every error auditwire raises on purpose."""

    message = "Internal error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class ConfigError(AuditwireError):
    """A setting is missing or invalid; start-up stops."""


class NotFound(AuditwireError):
    message = "404 Not found"


class Unauthenticated(AuditwireError):
    message = "401 Unauthorized"


class Forbidden(AuditwireError):
    message = "403 Forbidden"


class InvalidInput(AuditwireError):
    """The request is well formed but a value breaks a rule (HTTP 400)."""

    message = "400 Bad request"

    def __init__(self, message: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotSaved(AuditwireError):
    """A record failed validation when saved (HTTP 400 in REST, as GitLab answers a model that
    did not save): the reason in `message`, or per attribute in `errors` when GitLab lists
    them that way, e.g. `{"path": ["has already been taken"]}`."""

    message = "400 Bad request"

    def __init__(
        self, message: str | None = None, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.errors = errors


class Conflict(AuditwireError):
    """The value is already taken (HTTP 409 in REST)."""

    message = "409 Conflict"


class IdempotencyKeyReused(AuditwireError):
    """An Idempotency-Key sent again with another request body (HTTP 422, as the IETF
    Idempotency-Key draft asks)."""

    title = "Idempotency-Key is already used"
    message = (
        "This operation is idempotent and it requires correct usage of Idempotency Key. "
        "Idempotency Key MUST not be reused across different payloads of this operation."
    )


class StorageError(AuditwireError):
    """The database failed in a way the caller cannot fix."""

    message = "Storage error"
