"""A streaming destination to try auditwire with: standard library only.

    VERIFICATION_TOKEN=... SIGNING_SECRET=whsec_... python docs/receiver.py 127.0.0.1:9000

Answers 200 to each delivery whose `X-Gitlab-Event-Streaming-Token` header is the
destination's verification token and whose Standard Webhooks signature is right, prints one
line per event (once per event id: deliveries come at least once), and answers 401 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60  # seconds a webhook-timestamp may be away from now

verification_token = os.environ["VERIFICATION_TOKEN"]
key = base64.b64decode(os.environ["SIGNING_SECRET"].removeprefix("whsec_"))
seen: set[str] = set()


def signature_ok(headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks: HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"."""
    event_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    signed = f"{event_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()
    given = [s.removeprefix("v1,") for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, s) for s in given)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in self.headers.items()}
        token = headers.get("x-gitlab-event-streaming-token", "")
        if not hmac.compare_digest(token, verification_token) or not signature_ok(headers, body):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        if event["id"] not in seen:  # at least once: the same event may come again
            seen.add(event["id"])
            sys.stdout.write(f"received {event['event_type']} {event['id']}\n")  # one write
            sys.stdout.flush()
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # one line per event is enough
        pass


if __name__ == "__main__":
    host, _, port = (sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9000").rpartition(":")
    print(f"listening on http://{host}:{port}/", flush=True)
    ThreadingHTTPServer((host, int(port)), Receiver).serve_forever()
