"""The SSRF guard at send time: refuse addresses of the local network after resolution, so a
DNS change after a destination was created cannot point auditwire at internal services."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from auditwire.domain.addresses import blocked_reason, parse_ip_host

BLOCKED_PREFIX = "Destination url is blocked: "


class BlockedAddress(OSError):
    """Raised instead of connecting to an address the instance does not allow."""


def literal_block(host: str | None) -> str | None:
    """Why a URL host written as an IP literal is refused (aiohttp does not resolve those)."""
    if not host:
        return BLOCKED_PREFIX + "no host"
    address = parse_ip_host(host)
    if address is None:
        return None
    reason = blocked_reason(address)
    return BLOCKED_PREFIX + reason if reason else None


def resolved_block(addresses: Iterable[str]) -> str | None:
    """Why a name resolving to `addresses` is refused: when ANY of them is blocked (a name
    that resolves to one public and one private address is not safe to use)."""
    for host in addresses:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return BLOCKED_PREFIX + "unparsable address"
        reason = blocked_reason(address)
        if reason is not None:
            return BLOCKED_PREFIX + reason
    return None


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses if ANY address is blocked:
    a name that resolves to one public and one private address is not safe to use."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        blocked = resolved_block(result["host"] for result in results)
        if blocked is not None:
            raise BlockedAddress(f"{blocked} ({host})")
        return results

    async def close(self) -> None:
        await self._inner.close()
