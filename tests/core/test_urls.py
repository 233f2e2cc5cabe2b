"""SSRF guards (CONTRACT §8): https only, no localhost or literal private addresses; resolution where Crier fetches."""

from __future__ import annotations

import socket

import pytest

from crier.core.urls import resolved_url_problem, url_problem


def test_a_public_https_url_is_accepted():
    assert url_problem("https://cdn.example.com/media/1.mp4") is None


def test_a_hostname_is_not_resolved_at_intake():
    assert url_problem("https://internal.corp.invalid/1.jpg") is None


@pytest.mark.parametrize("url", ["http://cdn.example.com/1.jpg", "ftp://cdn.example.com/1.jpg", "cdn.example.com/1.jpg"])
def test_only_https_is_accepted(url):
    assert url_problem(url) in ("must use https", "has no host")


def test_credentials_in_a_url_are_refused():
    assert url_problem("https://user:pass@cdn.example.com/1.jpg") == "must not carry credentials"


@pytest.mark.parametrize("url", ["https://localhost/1.jpg", "https://LOCALHOST./1.jpg", "https://media.localhost/1.jpg"])
def test_localhost_is_refused(url):
    assert url_problem(url) == "must not point at localhost"


@pytest.mark.parametrize("url", [
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
])
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
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda *args, **kwargs: [(family, socket.SOCK_STREAM, 6, "", (address, 443))])

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
