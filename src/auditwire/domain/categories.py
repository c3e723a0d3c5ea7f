"""Destination categories (kinds) and each one's config rules, following GitLab's JSON schemas
(`ee/app/validators/json_schemas/audit_events_*_external_streaming_destination_config.json`).

A category is one `CategoryRules` in `CATEGORIES`: its JSON schema, the config keys that must
be unique per owner, its secret token's rules and the config keys that hold URLs (checked by
the URL guard). Adding a kind adds one entry here; nothing else in the domain changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from auditwire.domain import batch_rules
from auditwire.domain.keys import rsa_private_key
from auditwire.errors import InvalidInput

HTTP = "http"
AWS = "aws"
GCP = "gcp"
SPLUNK = "splunk"  # auditwire's addition: Splunk's HTTP Event Collector
DATADOG = "datadog"  # auditwire's addition: Datadog's logs intake

SECRET_MAX_LENGTH = 4096  # characters, every category
HTTP_TOKEN_MIN_LENGTH = 16  # characters
HTTP_TOKEN_MAX_LENGTH = 24  # characters
CONFIG_URL_MAX_LENGTH = 255  # characters
CONFIG_MAX_HEADERS = 20  # per destination
CONFIG_HEADER_VALUE_MAX_LENGTH = 255  # characters, GitLab's consolidated schema
DEFAULT_LOG_ID = "audit-events"

# GitLab's messages.
CATEGORY_UNKNOWN = "Category is not included in the list"
CONFIG_NOT_HASH = "Config must be a hash"
SECRET_REQUIRED = "Secret token is required for category"
SECRET_TOO_LONG = f"Secret token is too long (maximum is {SECRET_MAX_LENGTH} characters)"
HTTP_TOKEN_LENGTH = "Secret token should have length between 16 to 24 characters."
SECRET_INVALID = "Secret token must not contain line breaks or NUL"
SECRET_NO_SPACES = "Secret token must not contain spaces, line breaks or NUL"
GCP_KEY_INVALID = "Secret token must be an unencrypted RSA private key in PEM format"
AWS_REGION_INVALID = "AWS region must be a valid region code, for example us-east-1"
PROTECTED_HEADER = "Config headers cannot contain X-Gitlab-Event-Streaming-Token"

# RFC 9110 token characters, as GitLab's schema allows for a header name.
HEADER_NAME = r"\A[!#$%&'*+.^_`|~0-9A-Za-z-]{1,255}\Z"
# Visible characters with inner spaces or tabs: never CR, LF or NUL (GitLab's schema).
HEADER_VALUE = r"\A(?:[!-~\u00a1-\u00ff](?:[!-~\u00a1-\u00ff \t]*[!-~\u00a1-\u00ff])?)?\Z"
AWS_REGION = re.compile(r"\A[a-z]{2}(?:-[a-z]+)+-\d{1,2}\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but the tab


def _http_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "url": {"type": "string", "pattern": r"\Ahttps?://.+", "maxLength": 255},
            "headers": {
                "type": ["object", "null"],
                "patternProperties": {
                    HEADER_NAME: {
                        "type": "object",
                        "properties": {
                            "value": {
                                "type": "string",
                                "pattern": HEADER_VALUE,
                                "maxLength": CONFIG_HEADER_VALUE_MAX_LENGTH,
                            },
                            "active": {"type": "boolean"},
                        },
                        "required": ["value"],
                        "additionalProperties": False,
                    }
                },
                "additionalProperties": False,
                "maxProperties": CONFIG_MAX_HEADERS,
            },
            # auditwire's additions: many events per POST, and how many.
            "format": {"enum": [batch_rules.PER_EVENT, *batch_rules.HTTP_BATCH_FORMATS]},
            "batch": batch_rules.batch_schema(),
        },
        "required": ["url"],
        "additionalProperties": False,
    }


def _aws_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "accessKeyXid": {
                "type": "string",
                "pattern": r"\A[a-zA-Z0-9_]+\Z",
                "minLength": 16,
                "maxLength": 128,
            },
            "bucketName": {
                "type": "string",
                "pattern": r"\A[a-z0-9][a-z0-9\-.]*\Z",
                "minLength": 1,
                "maxLength": 63,
            },
            "awsRegion": {"type": "string", "minLength": 1, "maxLength": 50},
            # auditwire's addition: any S3-compatible store (MinIO, Ceph RGW), path-style.
            "endpointUrl": {"type": "string", "pattern": r"\Ahttps?://.+", "maxLength": 255},
            # auditwire's addition: one gzipped NDJSON object per batch, for data lakes.
            "format": {"enum": [batch_rules.AWS_BATCH_FORMAT]},
            "batch": batch_rules.batch_schema(),
        },
        "required": ["accessKeyXid", "bucketName", "awsRegion"],
        "additionalProperties": False,
    }


def _gcp_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "googleProjectIdName": {
                "type": "string",
                "pattern": r"\A[a-z][a-z0-9-]*[a-z0-9]\Z",
                "minLength": 6,
                "maxLength": 30,
            },
            "clientEmail": {
                "type": "string",
                "pattern": r"\A[^@\s]+@[^@\s]+\Z",
                "minLength": 1,
                "maxLength": 254,
            },
            "logIdName": {
                "type": "string",
                "pattern": r"\A[\w/.-]+\Z",
                "minLength": 1,
                "maxLength": 511,
            },
        },
        "required": ["googleProjectIdName", "clientEmail"],
        "additionalProperties": False,
    }


def _normalize_aws(config: dict[str, Any]) -> dict[str, Any]:
    if "batch" in config and config.get("format") != batch_rules.AWS_BATCH_FORMAT:
        raise InvalidInput(batch_rules.AWS_BATCH_NEEDS_FORMAT, "config")
    region = config.get("awsRegion")
    if isinstance(region, str):
        config["awsRegion"] = region.strip()
        if not AWS_REGION.match(config["awsRegion"]):
            raise InvalidInput(AWS_REGION_INVALID, "config")
    return config


def _normalize_gcp(config: dict[str, Any]) -> dict[str, Any]:
    if not config.get("logIdName"):
        config["logIdName"] = DEFAULT_LOG_ID
    return config


def _normalize_http(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("headers") in ({}, None):
        config.pop("headers", None)
    if config.get("format") == batch_rules.PER_EVENT:
        config.pop("format")  # the default, stored as GitLab stores it: absent
    if "batch" in config and "format" not in config:
        raise InvalidInput(batch_rules.BATCH_NEEDS_FORMAT, "config")
    return config


def _normalize_datadog(config: dict[str, Any]) -> dict[str, Any]:
    if "site" in config and "url" in config:
        raise InvalidInput(batch_rules.DATADOG_SITE_OR_URL, "config")
    return config


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """One destination kind's config rules."""

    name: str
    label: str  # as GitLab's UI names the kind
    schema: Mapping[str, Any]
    unique_keys: tuple[str, ...]  # config keys whose values one owner uses once
    url_keys: tuple[str, ...] = ()  # config keys holding URLs the URL guard checks
    secret_required: bool = True
    # The secret is sent as a header value (an API key): no spaces or control characters.
    header_secret: bool = False
    # The secret must parse as the sender reads it (a private key): the message when not.
    parse_secret: Callable[[str], object] | None = None
    secret_invalid: str = SECRET_INVALID
    normalize: Callable[[dict[str, Any]], dict[str, Any]] = lambda config: config
    _validator: Draft7Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        Draft7Validator.check_schema(self.schema)
        object.__setattr__(self, "_validator", Draft7Validator(self.schema))

    def validate_config(self, config: object) -> dict[str, Any]:
        """The config, checked against the schema and normalized; InvalidInput naming the
        first broken rule (never the value itself: header values are secrets)."""
        if not isinstance(config, Mapping):
            raise InvalidInput(CONFIG_NOT_HASH, "config")
        error = next(iter(sorted(self._validator.iter_errors(config), key=_error_order)), None)
        if error is not None:
            raise InvalidInput(describe(error), "config")
        return self.normalize(dict(config))

    def validate_secret(self, secret: str | None) -> str | None:
        """The secret token to store; None for http when one must be generated."""
        if secret is None or secret == "":
            if self.secret_required:
                raise InvalidInput(SECRET_REQUIRED, "secretToken")
            return None
        if len(secret) > SECRET_MAX_LENGTH:
            raise InvalidInput(SECRET_TOO_LONG, "secretToken")
        if "\x00" in secret:
            raise InvalidInput(SECRET_INVALID, "secretToken")
        if self.header_secret and (_CONTROL.search(secret) or any(c.isspace() for c in secret)):
            raise InvalidInput(SECRET_NO_SPACES, "secretToken")
        if self.parse_secret is not None:
            try:
                self.parse_secret(secret)
            except ValueError:
                raise InvalidInput(self.secret_invalid, "secretToken") from None
        return secret


def _error_order(error: ValidationError) -> tuple[int, str]:
    return (len(error.absolute_path), ".".join(str(p) for p in error.absolute_path))


def describe(error: ValidationError) -> str:
    """A Rails-like message for one schema violation: `Config url is too long (…)`."""
    path = ".".join(str(part) for part in error.absolute_path)
    subject = f"Config {path}" if path else "Config"
    rule: Any = error.validator_value
    match error.validator:
        case "maxLength":
            return f"{subject} is too long (maximum is {rule} characters)"
        case "minLength":
            return f"{subject} is too short (minimum is {rule} characters)"
        case "pattern":
            return f"{subject} is invalid"
        case "type":
            kinds = rule if isinstance(rule, list) else [rule]
            return f"{subject} must be of type {' or '.join(str(k) for k in kinds)}"
        case "required":
            missing = [key for key in rule if key not in (error.instance or {})]
            return f"{subject} {'.'.join([path, missing[0]]) if path else missing[0]} is missing"
        case "maximum":
            return f"{subject} must be less than or equal to {rule}"
        case "minimum":
            return f"{subject} must be greater than or equal to {rule}"
        case "enum":
            return f"{subject} must be one of: {', '.join(str(v) for v in rule)}"
        case "maxProperties":
            return f"{subject} are limited to {rule} per destination"
        case "additionalProperties":
            extra = sorted(set(error.instance or {}) - set(error.schema.get("properties", {})))
            return f"{subject} has an unknown key {extra[0] if extra else ''}".rstrip()
    return f"{subject} must be a valid json schema"


HTTP_RULES = CategoryRules(
    name=HTTP,
    label="HTTP endpoint",
    schema=_http_schema(),
    unique_keys=("url",),
    url_keys=("url",),
    secret_required=False,
    normalize=_normalize_http,
)

CATEGORIES: dict[str, CategoryRules] = {
    HTTP: HTTP_RULES,
    AWS: CategoryRules(
        name=AWS,
        label="AWS S3",
        schema=_aws_schema(),
        unique_keys=("bucketName",),
        url_keys=("endpointUrl",),
        normalize=_normalize_aws,
    ),
    GCP: CategoryRules(
        name=GCP,
        label="Google Cloud Logging",
        schema=_gcp_schema(),
        unique_keys=("logIdName", "googleProjectIdName"),
        parse_secret=rsa_private_key,
        secret_invalid=GCP_KEY_INVALID,
        normalize=_normalize_gcp,
    ),
    SPLUNK: CategoryRules(
        name=SPLUNK,
        label="Splunk HTTP Event Collector",
        schema=batch_rules.splunk_schema(),
        unique_keys=("url", "index"),
        url_keys=("url",),
        header_secret=True,
    ),
    DATADOG: CategoryRules(
        name=DATADOG,
        label="Datadog",
        schema=batch_rules.datadog_schema(),
        unique_keys=("site", "url", "service"),
        url_keys=("url",),
        header_secret=True,
        normalize=_normalize_datadog,
    ),
}


def rules_for(category: str) -> CategoryRules:
    found = CATEGORIES.get(category)
    if found is None:
        raise InvalidInput(CATEGORY_UNKNOWN, "category")
    return found


def validate_http_token(token: str) -> str:
    """An http destination's own verification token: 16 to 24 characters, no control
    characters (it is sent as a header value)."""
    if not HTTP_TOKEN_MIN_LENGTH <= len(token) <= HTTP_TOKEN_MAX_LENGTH:
        raise InvalidInput(HTTP_TOKEN_LENGTH, "secretToken")
    if _CONTROL.search(token):
        raise InvalidInput(SECRET_INVALID, "secretToken")
    return token


def has_control_characters(text: str) -> bool:
    """CR, LF, NUL or another control character but the tab: never valid in a header."""
    return _CONTROL.search(text) is not None
