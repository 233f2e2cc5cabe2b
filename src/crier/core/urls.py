"""Server-side request forgery guards for URLs partners and operators hand us."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified)


def url_problem(url: str, *, allowlist: list[str] | tuple[str, ...] = (), require_https: bool = True) -> str | None:
    """Why `url` may not be used (without resolving it), or None when it is acceptable."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "has no host"
    if host in allowlist:
        return None if parts.scheme in ("https", "http") else "must use https"
    if require_https and parts.scheme != "https":
        return "must use https"
    if parts.username or parts.password:
        return "must not carry credentials"
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return "must not point at localhost"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if _is_private(address):
        return "must not point at a private, loopback or link-local address"
    return None


async def resolved_url_problem(url: str, *, allowlist: list[str] | tuple[str, ...] = ()) -> str | None:
    """Like url_problem, and also refuse hostnames that resolve to private addresses."""
    problem = url_problem(url, allowlist=allowlist)
    if problem is not None:
        return problem
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in allowlist:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return "does not resolve"
    for info in infos:
        if _is_private(ipaddress.ip_address(info[4][0])):
            return "resolves to a private, loopback or link-local address"
    return None
