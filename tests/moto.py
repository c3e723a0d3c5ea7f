"""A real S3 API server (moto's `moto_server`) on a free loopback port, for the whole session:
the `s3_server` and `bucket` fixtures, which tests/conftest.py offers every test.

Authentication is enforced after the first few actions (INITIAL_NO_AUTH_ACTION_COUNT), which
create the IAM user whose key the tests sign with: a wrong key is refused as by AWS.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from botocore.session import get_session

from tests.live import free_port

START_TIMEOUT = 20.0  # seconds moto_server may take to answer
POLL = 0.1  # seconds between two readiness checks
STOP_TIMEOUT = 5.0  # seconds
REGION = "us-east-1"
# Unauthenticated actions before moto checks every signature: exactly the three below.
BOOTSTRAP_ACTIONS = 3
S3_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class S3Server:
    url: str
    access_key_id: str
    secret_access_key: str
    client: Any  # a botocore S3 client signed with the key above

    def keys(self, bucket: str) -> list[str]:
        """The keys of the bucket's objects, sorted."""
        listing = self.client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def config(self, bucket: str, **extra: str) -> dict[str, str]:
        return {
            "accessKeyXid": self.access_key_id,
            "bucketName": bucket,
            "awsRegion": REGION,
            "endpointUrl": self.url,
            **extra,
        }


def _moto_command() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    if found is None:
        pytest.fail("moto_server is not installed: pip install -e '.[test]'")
    return [found]


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=1.0) as answer:
                answer.read()
            return
        except OSError:
            time.sleep(POLL)
    raise RuntimeError(f"moto_server did not answer within {START_TIMEOUT} s")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(BOOTSTRAP_ACTIONS)}
    process = subprocess.Popen(
        [*_moto_command(), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(url, process)
        session = get_session()
        iam = session.create_client(
            "iam",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="auditwire")
        iam.put_user_policy(
            UserName="auditwire", PolicyName="s3", PolicyDocument=orjson.dumps(S3_POLICY).decode()
        )
        key = iam.create_access_key(UserName="auditwire")["AccessKey"]
        client = session.create_client(
            "s3",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        yield S3Server(url, key["AccessKeyId"], key["SecretAccessKey"], client)
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new, empty bucket of its own for each test."""
    name = f"audit-{uuid.uuid4().hex[:12]}"
    s3_server.client.create_bucket(Bucket=name)
    return name
