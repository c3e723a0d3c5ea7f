"""Helpers the docs test puts under the documented commands (see test_docs.py):

docs_tools.py curl ARGS...    real curl, failing on an HTTP error or a GraphQL error
docs_tools.py graphql         POST the GraphQL document on stdin, as the explorer would
docs_tools.py listening ADDR  wait until something accepts connections at host:port
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REQUEST_TIMEOUT = 30.0  # seconds for one documented request
LISTEN_TIMEOUT = 10.0  # seconds a background server of the docs gets to listen
LISTEN_POLL = 0.05  # seconds between connection attempts


def graphql_errors(answer: Any) -> list[Any]:
    """Request errors, and the `errors` of every mutation payload (GitLab's convention)."""
    if not isinstance(answer, dict):
        return ["not a JSON object"]
    errors = list(answer.get("errors") or [])
    for payload in (answer.get("data") or {}).values():
        if isinstance(payload, dict):
            errors.extend(payload.get("errors") or [])
    return errors


def fail_on_graphql_errors(text: str) -> None:
    try:
        errors = graphql_errors(json.loads(text))
    except ValueError:
        errors = ["the answer is not JSON"]
    if errors:
        sys.exit(f"GraphQL errors: {errors}")


def curl(args: list[str]) -> None:
    done = subprocess.run(
        [os.environ["DOCS_REAL_CURL"], "--fail-with-body", "--max-time", "30", *args],
        capture_output=True,
        timeout=REQUEST_TIMEOUT + 5,
        check=False,
    )
    sys.stdout.buffer.write(done.stdout)
    sys.stderr.buffer.write(done.stderr)
    if done.returncode != 0:
        sys.exit(done.returncode)
    if any("/api/graphql" in arg for arg in args):
        fail_on_graphql_errors(done.stdout.decode())


def graphql() -> None:
    token = Path("data/initial_root_token").read_text().strip()
    request = urllib.request.Request(
        os.environ["DOCS_GRAPHQL_URL"],
        data=json.dumps({"query": sys.stdin.read()}).encode(),
        headers={"PRIVATE-TOKEN": token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
        text = response.read().decode()
    print(text)
    fail_on_graphql_errors(text)


def listening(address: str) -> None:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + LISTEN_TIMEOUT
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"nothing listens at {address}")
            time.sleep(LISTEN_POLL)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "curl":
        curl(rest)
    elif command == "graphql":
        graphql()
    else:
        listening(rest[0])
