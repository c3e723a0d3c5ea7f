"""Which network addresses a destination may reach: the pure half of the SSRF guard.

A destination URL must not lead auditwire to the local network (loopback, private,
link-local, multicast, reserved, the cloud metadata address...) unless the instance allows
local requests. Hosts are checked as written (including the decimal, octal and hex spellings
that `inet_aton` accepts) and, by callers that resolve names, every address they resolve to.
"""

from __future__ import annotations

import ipaddress
import re
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# inet_aton's forms: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
_INET_ATON_FORM = re.compile(
    r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}$"
)


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a URL host denotes when it is an IP literal in any accepted spelling."""
    candidate = host.strip().rstrip(".")
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    candidate = candidate.split("%", 1)[0]  # an IPv6 zone id does not change the address
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        pass
    if _INET_ATON_FORM.match(candidate):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(candidate))
        except OSError:
            return None
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why auditwire must not connect to `address`, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return blocked_reason(embedded)
    if address.is_loopback:
        return "requests to loopback addresses are not allowed"
    if address.is_unspecified:
        return "requests to the unspecified address are not allowed"
    if address.is_link_local:
        return "requests to link-local addresses are not allowed"
    if address.is_multicast:
        return "requests to multicast addresses are not allowed"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return "requests to the local network are not allowed"
    if address.is_reserved or not address.is_global:
        return "requests to reserved addresses are not allowed"
    return None


def is_noncanonical_ip(host: str) -> bool:
    """An IP literal written other than in its usual form (dotted decimal for IPv4, or any
    IPv6 literal in brackets): `0x7f.1`, `017700000001`, `2130706433`, `127.1`."""
    candidate = host.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        return False
    if parse_ip_host(candidate) is None:
        return False
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return True
    return False
