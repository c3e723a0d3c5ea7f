from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from auditwire.streaming.guard import BlockedAddress, GuardedResolver, literal_block, resolved_block


class FixedResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        return None


async def test_a_name_resolving_to_public_addresses_is_allowed() -> None:
    resolver = GuardedResolver(FixedResolver("93.184.215.14", "2606:2800:21f:cb07::1"))
    assert len(await resolver.resolve("example.com", 443)) == 2


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1"]
)
async def test_a_name_resolving_to_a_local_address_is_refused(address: str) -> None:
    resolver = GuardedResolver(FixedResolver("93.184.215.14", address))
    with pytest.raises(BlockedAddress, match="Destination url is blocked"):
        await resolver.resolve("rebound.example", 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "[::1]", "10.0.0.1"])
def test_ip_literals_of_local_addresses_are_refused(host: str) -> None:
    assert (literal_block(host) or "").startswith("Destination url is blocked: ")


def test_public_literals_and_names_are_left_to_resolution() -> None:
    assert literal_block("93.184.215.14") is None
    assert literal_block("example.com") is None


def test_resolved_addresses_are_refused_when_any_is_blocked() -> None:
    assert resolved_block(["93.184.215.14", "2606:2800:21f:cb07::1"]) is None
    assert resolved_block(["93.184.215.14", "fe80::1%eth0"]) == (
        "Destination url is blocked: requests to link-local addresses are not allowed"
    )
    assert resolved_block(["not an address"]) == "Destination url is blocked: unparsable address"
