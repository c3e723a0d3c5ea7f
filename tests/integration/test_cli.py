"""The `auditwire` command as an operator types it: a real process on the test database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from auditwire.cli import prepare
from auditwire.config import Settings
from auditwire.errors import Unauthenticated
from auditwire.services.container import Services
from auditwire.services.context import Actor
from auditwire.store.schema import audit_events
from auditwire.store.schema import streaming_destinations as dest
from tests.conftest import MakeAccount
from tests.integration.streaming.factories import add_destination

COMMAND_TIMEOUT = 60  # seconds for one command, migrations included


def auditwire(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `auditwire ARGS` with its output piped, as in a script."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUDITWIRE_")}
    env |= {
        "AUDITWIRE_DATABASE_URL": settings.database_url,
        "AUDITWIRE_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "80",  # what a narrow terminal would say; piped output must ignore it
    }
    return subprocess.run(
        [sys.executable, "-m", "auditwire", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


async def test_commands_do_not_print_migration_logs_unless_asked(settings: Settings) -> None:
    quiet = auditwire(settings, "migrate")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "database is up to date\n"
    assert quiet.stderr == ""
    verbose = auditwire(settings, "--verbose", "migrate")
    assert verbose.returncode == 0, verbose.stderr
    assert '"logger":"alembic.runtime.migration"' in verbose.stderr


async def test_a_token_for_a_missing_user_is_refused_in_one_clear_line(
    settings: Settings,
) -> None:
    done = auditwire(settings, "tokens", "create", "nobody")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "auditwire: no user named 'nobody' (`auditwire users list` shows them)"
    ]


async def test_valid_scopes_are_listed_in_help_and_in_the_error_for_a_bad_one(
    settings: Settings, make_account: MakeAccount
) -> None:
    await make_account("alice")
    helped = auditwire(settings, "tokens", "create", "--help")
    assert helped.returncode == 0
    assert "api, read_api" in " ".join(helped.stdout.split())
    refused = auditwire(settings, "tokens", "create", "alice", "--scopes", "api,write")
    assert refused.returncode != 0
    assert "invalid scopes 'api,write' (valid scopes: api, read_api)" in refused.stderr


async def test_users_list_shows_every_user(settings: Settings, make_account: MakeAccount) -> None:
    alice = await make_account("alice")
    root = await make_account("root", admin=True)
    done = auditwire(settings, "users", "list")
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert rows[0] == ["id", "username", "name", "email", "admin", "state"]
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [
        (str(alice.user.id), "alice", "no"),
        (str(root.user.id), "root", "yes"),
    ]


@pytest.mark.parametrize("by", ["id", "value"])
async def test_tokens_revoke_by_id_or_by_value_is_audited_and_the_token_stops_working(
    settings: Settings, services: Services, make_account: MakeAccount, by: str
) -> None:
    alice = await make_account("alice")
    _user, token = await services.users.authenticate(alice.token)
    listed = auditwire(settings, "tokens", "list", "alice")
    assert listed.returncode == 0, listed.stderr
    assert f"{token.id}\ttest\tapi\tnever\tno\t" in listed.stdout
    assert alice.token not in listed.stdout
    named = str(token.id) if by == "id" else alice.token
    done = auditwire(settings, "tokens", "revoke", named)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"revoked personal access token {token.id} (test)\n"
    with pytest.raises(Unauthenticated):
        await services.users.authenticate(alice.token)
    async with services.store.read() as conn:
        revoked = (
            await conn.execute(
                sa.select(audit_events).where(
                    audit_events.c.event_type == "personal_access_token_revoked"
                )
            )
        ).one()
    assert (revoked.entity_type, revoked.entity_id) == ("User", alice.user.id)
    assert revoked.target_id == str(token.id)
    again = auditwire(settings, "tokens", "revoke", named)
    assert again.returncode != 0
    assert again.stderr == "auditwire: Token already revoked\n"
    unknown = auditwire(settings, "tokens", "revoke", "987654")
    assert unknown.returncode != 0
    assert unknown.stderr == "auditwire: no personal access token with id 987654\n"


async def test_status_piped_keeps_whole_rows_and_names_the_group(
    settings: Settings, services: Services, make_account: MakeAccount
) -> None:
    owner = await make_account("owner")
    group = await services.namespaces.create_group(
        Actor(owner.user), path="a-rather-long-group-path", name="Long"
    )
    destination = await add_destination(services, "http://127.0.0.1:9/", group_id=group.id)
    error = "Destination url is blocked: " + "x" * 40
    async with services.store.write() as conn:
        await conn.execute(
            dest.update()
            .where(dest.c.id == destination.id)
            .values(consecutive_failures=2, last_error=error)
        )
    done = auditwire(settings, "status")
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if "Last error" in line)
    assert "Group" in header
    row = next(
        line
        for line in done.stdout.splitlines()
        if line.count("│") > 5 and line.split("│")[1].strip() == str(destination.id)
    )
    assert "a-rather-long-group-path" in row
    assert error in row
    assert "\x1b[" not in done.stdout  # no colour codes in a pipe


async def test_the_first_run_prints_roots_password_once_and_keeps_it_for_its_owner_only(
    settings: Settings, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    await prepare(settings)
    printed = capsys.readouterr().out
    password_file = settings.data_dir / "initial_root_password"
    token_file = settings.data_dir / "initial_root_token"
    password = password_file.read_text().strip()
    assert f"Its password, to sign in at /users/sign_in: {password}" in printed
    assert token_file.read_text().strip() in printed
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert (await services.users.sign_in("root", password)).username == "root"

    await prepare(settings)  # a database that has root already: nothing new, nothing shown
    assert capsys.readouterr().out == ""
    assert password_file.read_text().strip() == password
