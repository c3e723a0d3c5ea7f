"""Every `sh`, `python` and `graphql` example of README.md and docs/*.md, run in order in one
shell as a user copies them, against a real `auditwire serve` on loopback on a fresh SQLite
database with local destinations allowed, so the documentation cannot rot.

Only the addresses change: the documented `127.0.0.1:8080` (auditwire) and `127.0.0.1:9000`
(the receiver) become free ports. `curl` is real curl that also fails on an HTTP error or a
GraphQL error; `graphql` blocks are POSTed with root's token, as in the explorer. A block
preceded by `<!-- not run: reason -->` is skipped, and so is the README's opening block
(`make run`, `make test`), which is what this test does itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LANGUAGES = {"sh", "python", "graphql"}
NOT_RUN = re.compile(r"^<!-- not run: .+ -->$")
FENCE = re.compile(r"^```(\w*)\s*$")
SERVER_ADDRESS = "127.0.0.1:8080"
RECEIVER_ADDRESS = "127.0.0.1:9000"
TOOLS = Path(__file__).with_name("docs_tools.py")
START_TIMEOUT = 30.0  # seconds for `auditwire serve` to answer its readiness check
RUN_TIMEOUT = 240.0  # seconds for every example together
END_OF_BLOCK = "DOCS_BLOCK_EOF"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    skipped: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order."""
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        skipped = i > 0 and NOT_RUN.match(lines[i - 1].strip()) is not None
        found.append(Block(path, i + 1, opening[1], "\n".join(lines[i + 1 : end]), skipped))
        i = end + 1
    return found


def runnable() -> list[Block]:
    every = [b for path in DOCUMENTS for b in blocks(path) if b.language in LANGUAGES]
    assert "make run" in every[0].text and every[0].path.name == "README.md"
    return [b for b in every[1:] if not b.skipped]


def script(run: list[Block], out: Path, addresses: dict[str, str]) -> str:
    """One bash script: each block's output goes to `out/<n>.txt`, its place to stderr."""
    parts = ["set -e -o pipefail"]
    for n, block in enumerate(run):
        text = block.text
        for documented, actual in addresses.items():
            text = text.replace(documented, actual)
        parts.append(f"echo '### {block.where} ({block.language})' >&2")
        if block.language == "sh":
            body = text
        elif block.language == "python":
            body = f"\"$DOCS_PYTHON\" - <<'{END_OF_BLOCK}'\n{text}\n{END_OF_BLOCK}"
        else:
            body = (
                f'"$DOCS_PYTHON" "$DOCS_TOOLS" graphql <<\'{END_OF_BLOCK}\'\n{text}\n{END_OF_BLOCK}'
            )
        parts.append(f"{{\n{body}\n}} > {out / f'{n}.txt'}")
        if text.rstrip().endswith("&"):  # a server started in the background: await it
            for address in re.findall(r"127\.0\.0\.1:\d+", text):
                parts.append(f'"$DOCS_PYTHON" "$DOCS_TOOLS" listening {address}')
    return "\n".join(parts) + "\n"


def checkout(root: Path) -> Path:
    """A directory that looks like the checkout (everything linked) but has its own `data`."""
    root.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {"data", ".git"}:
            (root / entry.name).symlink_to(entry)
    if not (root / ".venv").exists():
        (root / ".venv").symlink_to(Path(sys.prefix))
    return root


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process group this test started, and wait for its leader."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """`auditwire serve` in a fresh checkout-like directory, on a free loopback port."""
    home = checkout(tmp_path / "checkout")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITWIRE_")}
    env |= {"AUDITWIRE_ALLOW_LOCAL_REQUESTS": "true"}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "auditwire", "serve", "--port", str(port)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url + "/-/readiness", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                pytest.fail(
                    "auditwire serve did not start: " + (tmp_path / "serve.log").read_text()
                )
            time.sleep(0.1)
    yield home, f"127.0.0.1:{port}"
    stop(process)
    log.close()


def test_every_example_of_the_readme_and_the_docs_runs_as_written(
    server: tuple[Path, str], tmp_path: Path
) -> None:
    home, address = server
    run = runnable()
    out = tmp_path / "out"
    out.mkdir()
    tools = tmp_path / "bin"
    tools.mkdir()
    real_curl = shutil.which("curl")
    assert real_curl is not None, "the docs use curl (apt-get install curl)"
    wrapper = tools / "curl"
    wrapper.write_text('#!/bin/sh\nexec "$DOCS_PYTHON" "$DOCS_TOOLS" curl "$@"\n')
    wrapper.chmod(0o755)
    addresses = {SERVER_ADDRESS: address, RECEIVER_ADDRESS: f"127.0.0.1:{free_port()}"}
    (tmp_path / "docs.sh").write_text(script(run, out, addresses))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITWIRE_")}
    env |= {
        "PATH": f"{tools}{os.pathsep}{env.get('PATH', '')}",
        "DOCS_PYTHON": sys.executable,
        "DOCS_TOOLS": str(TOOLS),
        "DOCS_REAL_CURL": real_curl,
        "DOCS_GRAPHQL_URL": f"http://{address}/api/graphql",
    }
    # Files, not pipes: the receiver started in the background keeps them open.
    with (tmp_path / "docs.log").open("wb") as log:
        shell = subprocess.Popen(
            ["bash", str(tmp_path / "docs.sh")],
            cwd=home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the receiver in the background goes with it
        )
        try:
            shell.wait(timeout=RUN_TIMEOUT)
        finally:
            stop(shell)
    stderr = (tmp_path / "docs.log").read_text()
    outputs = {b.where: (out / f"{n}.txt") for n, b in enumerate(run)}
    shown = "\n".join(
        f"--- {where}\n{path.read_text() if path.exists() else ''}"
        for where, path in outputs.items()
    )
    assert shell.returncode == 0, f"{stderr}\n{shown}"

    def answer(marker: str) -> dict[str, object]:
        (n,) = [n for n, b in enumerate(run) if marker in b.text]
        data: dict[str, object] = json.loads((out / f"{n}.txt").read_text())["data"][marker]
        return data

    assert answer("auditEventsStreamingDestinationTest")["statusCode"] == 200
    queued = answer("auditEventsStreamingDestinationReplay")["queuedCount"]
    assert isinstance(queued, int) and queued >= 1
    (receiver,) = [n for n, b in enumerate(run) if "docs/receiver.py" in b.text]
    assert "received streaming_destination_test" in (out / f"{receiver}.txt").read_text()


def test_the_docs_name_the_blocks_they_do_not_run_and_keep_them_few() -> None:
    every = [b for path in DOCUMENTS for b in blocks(path) if b.language in LANGUAGES]
    skipped = [b.where for b in every if b.skipped]
    assert len(skipped) <= 8, skipped
    assert len(runnable()) >= 10
