"""By construction, on every page: each control has a label, each button a name, and each
form that posts its CSRF token."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx

from auditwire.services.container import Services
from auditwire.web.session import CSRF_FIELD
from tests.conftest import Account
from tests.integration.web.helpers import http_destination_of_acme, root_signed_in_with_acme
from tests.integration.web.test_sign_in import _sign_in

KINDS = ("http", "gcp", "aws", "splunk", "datadog")


class Controls(HTMLParser):
    """The page's form controls and buttons, and the ids its labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.buttons: list[dict[str, str | None]] = []
        self._button: dict[str, str | None] | None = None
        self._text = ""
        self.posts_without_csrf: list[str | None] = []  # the actions of such forms
        self._post: tuple[str | None, bool] | None = None  # (action, carries the token)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "").lower() == "post":
            self._post = (found.get("action"), False)
        if tag == "input" and found.get("name") == CSRF_FIELD and self._post is not None:
            self._post = (self._post[0], True)
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        elif tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            if found.get("type") in ("submit", "button"):
                self.buttons.append({**found, "text": found.get("value")})
            else:
                self.controls.append(found)
        elif tag == "button":
            self._button, self._text = found, ""

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._post is not None:
            if not self._post[1]:
                self.posts_without_csrf.append(self._post[0])
            self._post = None
        if tag == "button" and self._button is not None:
            self.buttons.append({**self._button, "text": self._text.strip()})
            self._button = None


def unlabelled(html: str) -> list[object]:
    """Controls without a label, buttons without a name, and forms posting without CSRF."""
    page = Controls()
    page.feed(html)
    controls = [
        c for c in page.controls if c.get("id") not in page.labelled and not c.get("aria-label")
    ]
    buttons = [b for b in page.buttons if not (b.get("text") or b.get("aria-label"))]
    return [*controls, *buttons, *({"form without CSRF token": a} for a in page.posts_without_csrf)]


async def test_every_control_has_a_label_every_button_a_name_every_post_its_csrf_token(
    client: httpx.AsyncClient, root: Account
) -> None:
    await root_signed_in_with_acme(client, root)
    destination_id = await http_destination_of_acme(client, root)
    pages = [
        "/",
        "/groups/acme",
        "/groups/acme/-/audit_events",
        "/admin/audit_logs",
        f"/groups/acme/-/audit_events/streams/http/{destination_id}",
        "/-/user_settings/password/edit",
        *(f"/groups/acme/-/audit_events/streams/new?kind={kind}" for kind in KINDS),
        *(f"/admin/audit_logs/streams/new?kind={kind}" for kind in KINDS),
    ]
    for path in pages:
        shown = await client.get(path)
        assert shown.status_code == 200, path
        assert unlabelled(shown.text) == [], path
    client.cookies.clear()
    sign_in = await client.get("/users/sign_in")
    assert unlabelled(sign_in.text) == []
    assert '<label for="user_login">Username or primary email</label>' in sign_in.text
    assert '<label for="user_password">Password</label>' in sign_in.text


async def test_the_instance_log_and_streams_are_for_administrators_only(
    client: httpx.AsyncClient, services: Services
) -> None:
    await services.users.create_user(
        None, username="ada", email="ada@example.com", password="ada-password"
    )
    await _sign_in(client, "ada", "ada-password")
    assert (await client.get("/")).status_code == 200
    for path in (
        "/admin/audit_logs",
        "/admin/audit_logs?tab=streams",
        "/admin/audit_logs.csv",
        "/admin/audit_logs/streams/new?kind=http",
    ):
        assert (await client.get(path)).status_code == 404, path
