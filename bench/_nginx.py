"""A loopback nginx that answers every request `200 ok` at once: a receiver that costs this
machine a small fraction of the sender's CPU per request, so the ceiling it gives is the
sender's. Started with a prefix and config of its own in a temporary directory."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
CONFIG = """\
worker_processes 1;
daemon off;
master_process off;
error_log {prefix}/error.log crit;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 60s;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in CANDIDATES if Path(c).exists()), None)


class Nginx:
    """`with Nginx() as n:` a running nginx on 127.0.0.1:`n.port`; `n.pid` its process."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="auditwire-nginx-")
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def url(self, n: int = 0) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{n}"

    def __enter__(self) -> Nginx:
        path = binary()
        if path is None:
            raise FileNotFoundError("nginx is not installed")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        prefix = self._dir.name
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(CONFIG.format(prefix=prefix, port=self.port))
        self._process = subprocess.Popen(
            [path, "-p", prefix, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):  # bounded: 10 s
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self._process.returncode}")
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("nginx did not start listening within 10 s")

    def __exit__(self, *_exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._dir.cleanup()
