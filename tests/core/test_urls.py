"""SSRF guards (CONTRACT §8): https only, no localhost or literal private addresses; resolution where Crier fetches."""

from __future__ import annotations

import socket

import httpx
import pytest
import respx

from crier.core.urls import UrlRefused, normalized_host, pinned_request, resolved_url_problem, url_problem


def test_a_public_https_url_is_accepted():
    assert url_problem("https://cdn.example.com/media/1.mp4") is None


def test_a_hostname_is_not_resolved_at_intake():
    assert url_problem("https://internal.corp.invalid/1.jpg") is None


@pytest.mark.parametrize(
    "url", ["http://cdn.example.com/1.jpg", "ftp://cdn.example.com/1.jpg", "cdn.example.com/1.jpg"]
)
def test_only_https_is_accepted(url):
    assert url_problem(url) in ("must use https", "has no host")


def test_credentials_in_a_url_are_refused():
    assert url_problem("https://user:pass@cdn.example.com/1.jpg") == "must not carry credentials"


@pytest.mark.parametrize(
    "url", ["https://localhost/1.jpg", "https://LOCALHOST./1.jpg", "https://media.localhost/1.jpg"]
)
def test_localhost_is_refused(url):
    assert url_problem(url) == "must not point at localhost"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/1.jpg",
        "https://10.1.2.3/1.jpg",
        "https://172.16.0.1/1.jpg",
        "https://192.168.1.1/1.jpg",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/1.jpg",
        "https://[::1]/1.jpg",
        "https://[fe80::1]/1.jpg",
        "https://[fc00::1]/1.jpg",
        "https://[::ffff:127.0.0.1]/1.jpg",
    ],
)
def test_literal_private_loopback_and_link_local_addresses_are_refused(url):
    assert url_problem(url) == "must not point at a private, loopback or link-local address"


def test_an_allow_listed_host_may_be_private_and_plain_http():
    assert url_problem("http://127.0.0.1:8080/x", allowlist=["127.0.0.1"]) is None
    assert url_problem("ftp://127.0.0.1/x", allowlist=["127.0.0.1"]) == "must use https"


@pytest.fixture
def dns(monkeypatch):
    """Answer every lookup with the given address (asyncio resolves through socket.getaddrinfo)."""

    def answer(address: str) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda *args, **kwargs: [(family, socket.SOCK_STREAM, 6, "", (address, 443))],
        )

    return answer


async def test_a_hostname_resolving_to_a_private_address_is_refused_where_crier_fetches(dns):
    dns("10.0.0.7")

    problem = await resolved_url_problem("https://provider.example.com/hook")

    assert problem == "resolves to a private, loopback or link-local address"


async def test_a_hostname_resolving_to_a_public_address_is_accepted(dns):
    dns("93.184.216.34")

    assert await resolved_url_problem("https://provider.example.com/hook") is None


async def test_an_allow_listed_host_is_not_resolved(dns):
    dns("127.0.0.1")

    assert await resolved_url_problem("https://provider.lan/hook", allowlist=["provider.lan"]) is None


async def test_a_hostname_that_does_not_resolve_is_refused(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", fail)

    assert await resolved_url_problem("https://nowhere.example.com/hook") == "does not resolve"


@pytest.mark.parametrize(
    "url",
    [
        "https://１２７.０.０.１/1.jpg",  # fullwidth digits and dots
        "https://０ｘ７ｆ０００００１/1.jpg",  # fullwidth hex
        "https://127。0。0。1/1.jpg",  # ideographic full stops separate labels too
    ],
)
def test_unicode_spellings_of_a_private_address_are_refused(url):
    assert url_problem(url) == "must not point at a private, loopback or link-local address"


@pytest.mark.parametrize(
    "url",
    ["https://ｌｏｃａｌｈｏｓｔ/1.jpg", "https://ⅼocalhost/1.jpg", "https://ＬＯＣＡＬＨＯＳＴ./1.jpg"],
)
def test_unicode_look_alikes_of_localhost_are_refused(url):
    assert url_problem(url) == "must not point at localhost"


@pytest.mark.parametrize(
    "url",
    [
        "https://[::127.0.0.1]/1.jpg",  # IPv4-compatible
        "https://[::ffff:0:127.0.0.1]/1.jpg",  # SIIT
        "https://[64:ff9b::7f00:1]/1.jpg",  # NAT64, well-known prefix
        "https://[64:ff9b:1::7f00:1]/1.jpg",  # NAT64, local-use prefix
        "https://[64:ff9b::a00:1]/1.jpg",  # NAT64 to 10.0.0.1
        "https://[2002:7f00:1::]/1.jpg",  # 6to4
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/1.jpg",  # Teredo, client 127.0.0.1
    ],
)
def test_ipv6_addresses_embedding_a_private_ipv4_are_refused(url):
    assert url_problem(url) == "must not point at a private, loopback or link-local address"


def test_an_ipv6_address_embedding_a_public_ipv4_is_accepted():
    assert url_problem("https://[64:ff9b::5db8:d822]/1.jpg") is None  # NAT64 of 93.184.216.34


def test_an_international_domain_name_is_accepted_in_its_idna_form():
    assert url_problem("https://bücher.example/1.jpg") is None
    assert normalized_host("Bücher.Example.") == "xn--bcher-kva.example"


async def test_a_pinned_request_connects_to_the_address_that_was_checked(monkeypatch):
    answers = iter(["93.184.216.34", "127.0.0.1"])  # a rebinding resolver: public first, loopback next
    lookups = []

    def getaddrinfo(host, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), 443))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with respx.mock(assert_all_called=True) as platform:
        route = platform.post("https://93.184.216.34/v1/dispatches").respond(202, json={"ok": True})
        async with httpx.AsyncClient() as http:
            response = await pinned_request(
                http, "POST", "https://provider.example.com/v1/dispatches", json={}
            )

    assert response.status_code == 202
    assert lookups == ["provider.example.com"]  # resolved once: no second answer can redirect the call
    sent = route.calls.last.request
    assert sent.headers["host"] == "provider.example.com"
    assert sent.extensions["sni_hostname"] == "provider.example.com"  # TLS verifies the real name


async def test_a_pinned_request_to_a_refused_url_sends_nothing(dns):
    dns("10.0.0.7")
    async with httpx.AsyncClient() as http:
        with pytest.raises(UrlRefused, match="resolves to a private"):
            await pinned_request(http, "GET", "https://provider.example.com/x")
