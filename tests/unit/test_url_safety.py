from __future__ import annotations

import asyncio

import pytest

from auditwire.errors import InvalidInput
from auditwire.services.url_safety import UrlSafety


def resolving_to(*addresses: str) -> object:
    """A resolver that answers every name with `addresses`, as a public DNS would."""

    async def resolve(host: str) -> list[str]:
        return list(addresses)

    return resolve


async def refusal(url: str, guard: UrlSafety | None = None) -> str:
    guard = guard or UrlSafety(allow_local_requests=False)
    with pytest.raises(InvalidInput) as caught:
        await guard.check(url)
    return caught.value.message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/ingest", "Requests to loopback addresses are not allowed"),
        ("http://127.8.9.10:8080/", "Requests to loopback addresses are not allowed"),
        ("http://[::1]/", "Requests to loopback addresses are not allowed"),
        ("http://10.0.0.1/", "Requests to the local network are not allowed"),
        ("http://172.16.5.4/", "Requests to the local network are not allowed"),
        ("https://192.168.1.1/", "Requests to the local network are not allowed"),
        ("http://[fc00::1]/", "Requests to the local network are not allowed"),
        ("http://[fec0::1]/", "Requests to the local network are not allowed"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "Requests to link-local addresses are not allowed",
        ),
        ("http://[fe80::1]/", "Requests to link-local addresses are not allowed"),
        ("http://224.0.0.1/", "Requests to multicast addresses are not allowed"),
        ("http://[ff02::1]/", "Requests to multicast addresses are not allowed"),
        ("http://240.0.0.1/", "Requests to the local network are not allowed"),
        ("http://100.64.0.1/", "Requests to reserved addresses are not allowed"),
        ("http://0.0.0.0/", "Requests to the unspecified address are not allowed"),
        ("http://0/", "Requests to the unspecified address are not allowed"),
        ("http://[::ffff:127.0.0.1]/", "Requests to loopback addresses are not allowed"),
        ("http://[::ffff:169.254.169.254]/", "Requests to link-local addresses are not allowed"),
        ("http://[::ffff:10.0.0.1]/", "Requests to the local network are not allowed"),
        ("http://2130706433/", "Requests to loopback addresses are not allowed"),
        ("http://0177.0.0.1/", "Requests to loopback addresses are not allowed"),
        ("http://0x7f000001/", "Requests to loopback addresses are not allowed"),
        ("http://0x7f.0.0.1/", "Requests to loopback addresses are not allowed"),
        ("http://127.1/", "Requests to loopback addresses are not allowed"),
        ("http://2852039166/", "Requests to link-local addresses are not allowed"),
        ("http://0xa9fea9fe/", "Requests to link-local addresses are not allowed"),
        ("http://user:pw@127.0.0.1:9/", "Requests to loopback addresses are not allowed"),
    ],
)
async def test_local_and_reserved_addresses_are_refused_in_every_spelling(
    url: str, reason: str
) -> None:
    assert await refusal(url) == f"Destination url is blocked: {reason}"


async def test_localhost_is_refused_after_resolving_it() -> None:
    message = await refusal("http://localhost:8080/ingest")
    assert message == "Destination url is blocked: Requests to loopback addresses are not allowed"


@pytest.mark.parametrize(
    "addresses",
    [("10.1.2.3",), ("93.184.216.34", "169.254.169.254"), ("::ffff:127.0.0.1",), ("fd00::5",)],
)
async def test_a_name_resolving_to_any_local_address_is_refused(addresses: tuple[str, ...]) -> None:
    guard = UrlSafety(allow_local_requests=False, resolver=resolving_to(*addresses))  # type: ignore[arg-type]
    assert (await refusal("https://siem.example.com/x", guard)).startswith(
        "Destination url is blocked: Requests to"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/ingest",
        "http://8.8.8.8:8088/services/collector",
        "https://[2606:4700:4700::1111]/x",
        "https://siem.example.com/ingest",
        "HTTPS://SIEM.EXAMPLE.COM:8443/a?b=c",
    ],
)
async def test_public_addresses_and_names_are_allowed(url: str) -> None:
    guard = UrlSafety(
        allow_local_requests=False,
        resolver=resolving_to("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"),  # type: ignore[arg-type]
    )
    await guard.check(url)


async def test_names_that_do_not_resolve_are_refused() -> None:
    async def fails(host: str) -> list[str]:
        raise OSError("Name or service not known")

    guard = UrlSafety(allow_local_requests=False, resolver=fails)
    message = await refusal("https://nowhere.invalid/", guard)
    assert message == "Destination url is blocked: Host cannot be resolved or invalid"


async def test_a_resolver_that_never_answers_is_given_up_on() -> None:
    never = asyncio.Event()

    async def hangs(host: str) -> list[str]:
        await never.wait()
        return []

    guard = UrlSafety(allow_local_requests=False, resolver=hangs, timeout=0.01)
    message = await refusal("https://slow.example.com/", guard)
    assert message == "Destination url is blocked: Host cannot be resolved or invalid"


async def test_allowing_local_requests_skips_address_checks_but_not_the_form() -> None:
    async def must_not_resolve(host: str) -> list[str]:
        raise AssertionError("resolved although local requests are allowed")

    guard = UrlSafety(allow_local_requests=True, resolver=must_not_resolve)
    await guard.check("http://127.0.0.1:9000/ingest")
    await guard.check("http://localhost/ingest")
    assert await refusal("gopher://127.0.0.1/", guard) == (
        "Destination url is blocked: Only allowed schemes are http, https"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Destination url can't be blank"),
        ("file:///etc/passwd", "Destination url is blocked: Only allowed schemes are http, https"),
        ("javascript:alert(1)", "Destination url is blocked: Only allowed schemes are http, https"),
        ("http:///path-only", "Destination url is blocked: URI is invalid"),
        ("http://example.com:99999/", "Destination url is blocked: URI is invalid"),
        (
            "https://example.com/" + "a" * 236,
            "Destination url is too long (maximum is 255 characters)",
        ),
    ],
)
async def test_malformed_urls_are_refused_before_any_lookup(url: str, message: str) -> None:
    assert await refusal(url) == message
