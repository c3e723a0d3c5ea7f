"""A destination's config as typed into its form: the batch kinds' settings, the batching
fieldset, and an HTTP destination's format. Values go to the API as typed; its rules judge
them (a number that is not one is sent as text, and refused in the API's words)."""

from __future__ import annotations

from typing import Any

from auditwire.domain import batch_rules
from auditwire.web.pages.stream_queries import Kind, snake_case

BATCH_KEYS = ("maxEvents", "maxBytes", "maxWaitMs")
FORMATS = (
    (batch_rules.PER_EVENT, "One event per request (GitLab)"),
    ("json_array", "JSON array"),
    ("ndjson", "NDJSON"),
)
FLAGS = {"splunk": ("ack",)}  # config booleans, one checkbox each
LIMITS = {
    "max_events": batch_rules.EVENTS_CEILING,
    "max_bytes": batch_rules.BYTES_CEILING,
    "wait_ms": batch_rules.DEFAULT_WAIT_MS,
}


def _number(text: str) -> int | str:
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else text


def batch_of(form: dict[str, str]) -> dict[str, int | str] | None:
    """The `batch` object of the batching fieldset; None when every field is empty."""
    batch = {
        key: _number(form[f"batch_{snake_case(key)}"])
        for key in BATCH_KEYS
        if form.get(f"batch_{snake_case(key)}", "").strip()
    }
    return batch or None


def config_of(kind: Kind, form: dict[str, str]) -> dict[str, Any]:
    """A batch kind's whole config: each filled field, each ticked flag, the batch."""
    config: dict[str, Any] = {
        key: form[snake_case(key)]
        for key in kind.config_keys
        if form.get(snake_case(key), "").strip()
    }
    for flag in FLAGS.get(kind.key, ()):
        if form.get(flag) == "true":
            config[flag] = True
    if (batch := batch_of(form)) is not None:
        config["batch"] = batch
    return config


def fields_of(kind: Kind, form: dict[str, str]) -> dict[str, Any]:
    """The create and update arguments of the kind's form, by GitLab's argument names; the
    secret as typed (the caller leaves an empty one out of an update)."""
    if kind.category is not None:
        return {"config": config_of(kind, form), "secretToken": form.get("secret_token", "")}
    names = (*kind.settings, *((kind.secret,) if kind.secret else ()))
    return {name: form.get(snake_case(name), "") for name in names}


def layout_of(form: dict[str, str]) -> dict[str, Any]:
    """An HTTP destination's format and batch as chosen; the batch only for a batched
    format (the fieldset is not offered for one event per request)."""
    chosen = form.get("format", "") or batch_rules.PER_EVENT
    if chosen == batch_rules.PER_EVENT:
        return {}
    batch = batch_of(form)
    return {"format": chosen, **({"batch": batch} if batch is not None else {})}


def current_layout(config: dict[str, Any]) -> dict[str, Any]:
    return {key: config[key] for key in ("format", "batch") if key in config}


def with_layout(config: dict[str, Any], url: str, layout: dict[str, Any]) -> dict[str, Any]:
    """The whole config an update sends: the current one (headers included), the URL as
    typed, the layout chosen."""
    kept = {k: v for k, v in config.items() if k not in ("format", "batch")}
    return {**kept, "url": url, **layout}


def form_values(config: dict[str, Any]) -> dict[str, str]:
    """A saved config as its form's fields: the reverse of `config_of` and `layout_of`."""
    values = {
        snake_case(key): "true" if value is True else str(value)
        for key, value in config.items()
        if value is True or (isinstance(value, str | int) and not isinstance(value, bool))
    }
    batch = config.get("batch")
    if isinstance(batch, dict):
        values.update({f"batch_{snake_case(k)}": str(batch[k]) for k in BATCH_KEYS if k in batch})
    return values
