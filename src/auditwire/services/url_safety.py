"""Refuse destination URLs that lead to localhost or the local network (the SSRF guard).

A host written as an IP literal, in any spelling `inet_aton` accepts, is checked as written;
a name is resolved and every address it resolves to is checked, so a name pointing at
127.0.0.1 or 169.254.169.254 is refused like the address itself. With
`AUDITWIRE_ALLOW_LOCAL_REQUESTS=true` only the URL's form is checked and nothing is resolved.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from auditwire.domain.addresses import (
    IPAddress,
    blocked_reason,
    is_noncanonical_ip,
    parse_ip_host,
)
from auditwire.domain.destinations import blocked, url_host

RESOLVE_TIMEOUT = 5.0  # seconds
CANNOT_RESOLVE = "Host cannot be resolved or invalid"
NONCANONICAL_IP = "IP addresses must be written in their usual form (like 192.0.2.1)"

# host -> every address it resolves to (as strings); raises OSError when it does not resolve.
Resolver = Callable[[str], Awaitable[list[str]]]


async def system_resolver(host: str) -> list[str]:
    """The addresses the operating system resolves `host` to."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class UrlSafety:
    """Checks a destination URL before it is stored."""

    def __init__(
        self,
        *,
        allow_local_requests: bool,
        resolver: Resolver = system_resolver,
        timeout: float = RESOLVE_TIMEOUT,
    ) -> None:
        self.allow_local_requests = allow_local_requests
        self._resolver = resolver
        self._timeout = timeout

    async def check(self, url: str) -> None:
        """Raise InvalidInput with GitLab's `Destination url is blocked: …` when refused."""
        host = url_host(url)
        if not self.allow_local_requests:
            literal = parse_ip_host(host)
            addresses = [literal] if literal is not None else await self._resolve(host)
            for address in addresses:
                reason = blocked_reason(address)
                if reason is not None:
                    raise blocked(reason)
        # `0x7f.1` or `2130706433`: what a reader of the URL sees is not where it leads, and
        # the sender would not take it as an address: refused however local requests are set.
        if is_noncanonical_ip(host):
            raise blocked(NONCANONICAL_IP)

    async def _resolve(self, host: str) -> list[IPAddress]:
        try:
            async with asyncio.timeout(self._timeout):
                resolved = await self._resolver(host)
        except (OSError, TimeoutError, UnicodeError):
            raise blocked(CANNOT_RESOLVE) from None
        addresses = [parse_ip_host(a) for a in resolved]
        if not addresses or any(a is None for a in addresses):
            raise blocked(CANNOT_RESOLVE)
        return [a for a in addresses if a is not None]
