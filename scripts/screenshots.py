"""`make screenshots`: a PNG of each page in docs/screenshots/, from a seeded throwaway server
driven by Playwright and Debian's Chromium (as the browser tests are)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from playwright.async_api import async_playwright
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.live import LiveServer

from auditwire.config import Settings, async_database_url
from auditwire.domain.categories import AWS, DATADOG, GCP, SPLUNK
from auditwire.domain.namespaces import AccessLevel
from auditwire.domain.owner import OwnerKind
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store import Store
from auditwire.store.migrate import migrate

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "screenshot-password"
VIEWPORT = {"width": 1280, "height": 860}


def _private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


async def seed(settings: Settings) -> dict[str, int]:
    """A group with members and one destination of each kind; their ids by kind."""
    store = Store(async_database_url(settings.database_url))
    try:
        await migrate(store)
        svc = Services.build(settings, store)
        root = Actor(
            await svc.users.create_user(
                None, username="root", email="root@example.com", is_admin=True, password=PASSWORD
            )
        )
        group = await svc.namespaces.create_group(root, path="acme", name="Acme")
        await svc.namespaces.create_group(root, path="payments", name="Payments", parent_ref="acme")
        await svc.namespaces.create_project(root, path="api", name="API", namespace_ref=group.id)
        for username in ("mia", "gus"):
            user = await svc.users.create_user(
                None, username=username, email=f"{username}@example.com", password=PASSWORD
            )
            await svc.namespaces.add_member(
                root, group, user_id=user.id, access_level=AccessLevel.DEVELOPER
            )
        destination = await svc.destinations.create_group_destination(
            root, group_path="acme", destination_url="http://127.0.0.1:9/siem", name="SIEM"
        )
        await svc.destinations.create_header(
            root, destination.id, kind=OwnerKind.GROUP, key="X-Team", value="security"
        )
        owner = await svc.destinations.group_owner(root, "acme")
        gcp = await svc.destinations.create(
            root,
            owner,
            category=GCP,
            config={
                "googleProjectIdName": "acme-audit",
                "clientEmail": "auditwire@acme-audit.iam.gserviceaccount.com",
                "logIdName": "audit_events",
            },
            name="Cloud Logging",
            secret_token=_private_key(),
        )
        aws = await svc.destinations.create(
            root,
            owner,
            category=AWS,
            config={
                "accessKeyXid": "AKIAIOSFODNN7EXAMPLE",
                "bucketName": "acme-audit-events",
                "awsRegion": "eu-west-1",
            },
            name="Archive",
            secret_token="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        # Loopback URLs: the server's worker sends nowhere else.
        splunk = await svc.destinations.create(
            root,
            owner,
            category=SPLUNK,
            config={
                "url": "http://127.0.0.1:9",
                "index": "gitlab_audit",
                "sourcetype": "gitlab:audit",
                "batch": {"maxEvents": 500, "maxWaitMs": 200},
            },
            name="Splunk",
            secret_token="00000000-0000-0000-0000-000000000000",
        )
        datadog = await svc.destinations.create(
            root,
            owner,
            category=DATADOG,
            config={
                "url": "http://127.0.0.1:9/api/v2/logs",
                "service": "gitlab",
                "ddtags": "env:prod",
            },
            name="Datadog",
            secret_token="0123456789abcdef0123456789abcdef",
        )
        return {
            "http": destination.id,
            "gcp": gcp.id,
            "aws": aws.id,
            "splunk": splunk.id,
            "datadog": datadog.id,
        }
    finally:
        await store.close()


async def shoot(base: str, destinations: dict[str, int]) -> list[Path]:
    streams = "/groups/acme/-/audit_events/streams"
    pages = {
        "sign-in": "/users/sign_in",
        "groups": "/",
        "group": "/groups/acme",
        "audit-log": "/groups/acme/-/audit_events",
        "streams": "/groups/acme/-/audit_events?tab=streams",
        "add-http-destination": "/groups/acme/-/audit_events/streams/new?kind=http",
        "add-gcp-destination": "/groups/acme/-/audit_events/streams/new?kind=gcp",
        "add-aws-destination": "/groups/acme/-/audit_events/streams/new?kind=aws",
        "add-splunk-destination": "/groups/acme/-/audit_events/streams/new?kind=splunk",
        "add-datadog-destination": "/groups/acme/-/audit_events/streams/new?kind=datadog",
        "destination": f"/groups/acme/-/audit_events/streams/http/{destinations['http']}",
        "gcp-destination": f"/groups/acme/-/audit_events/streams/gcp/{destinations['gcp']}",
        "aws-destination": f"/groups/acme/-/audit_events/streams/aws/{destinations['aws']}",
        "splunk-destination": f"{streams}/splunk/{destinations['splunk']}",
        "datadog-destination": f"{streams}/datadog/{destinations['datadog']}",
        "admin-audit-logs": "/admin/audit_logs",
        "password": "/-/user_settings/password/edit",
    }
    written = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport=VIEWPORT)
        await page.goto(base + pages.pop("sign-in"))
        OUT.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=OUT / "sign-in.png")
        written.append(OUT / "sign-in.png")
        await page.get_by_label("Username or primary email").fill("root")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_url(base + "/")
        for name, path in pages.items():
            await page.goto(base + path)
            target = OUT / f"{name}.png"
            await page.screenshot(path=target, full_page=True)
            written.append(target)
        await browser.close()
    return written


def main() -> int:
    if CHROMIUM is None:
        print("screenshots need Chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    data = Path(tempfile.mkdtemp(prefix="auditwire-screenshots-"))
    try:
        settings = Settings(
            data_dir=data,
            database_url=f"sqlite:///{data / 'auditwire.db'}",
            secret_key="",
            allow_local_requests=True,  # the example destination is on loopback
        )
        destinations = asyncio.run(seed(settings))
        server = LiveServer(settings)
        server.start()
        try:
            for path in asyncio.run(shoot(server.url, destinations)):
                print(path.relative_to(OUT.parent.parent))
        finally:
            server.stop()
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
