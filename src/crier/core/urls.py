"""Server-side request forgery guards for URLs partners and operators hand us."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# A last label like these makes resolvers (inet_aton) and URL parsers (WHATWG) read the host as IPv4.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
# Letters (IDN too), digits, '-', '_', dots: no '%', backslash, space or control a parser may reread.
_HOST_NAME = re.compile(r"[\w.-]+")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _is_private(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 2002:7f00:1:: (6to4) carry an IPv4 address that routes like itself.
        address = address.ipv4_mapped or address.sixtofour or address
    # Not global covers private, loopback, link-local, shared (100.64/10), reserved and unspecified.
    return not address.is_global or address.is_multicast


def _literal_address(host: str) -> Address | None:
    """The address a host spells, in any form a resolver accepts; None for a name. ValueError if neither."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        # 2130706433, 0x7f.0.0.1, 0177.0.0.1 and 127.1 all name 127.0.0.1 to inet_aton.
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise ValueError(host) from None
    if not _HOST_NAME.fullmatch(host):
        raise ValueError(host)
    return None


def url_problem(url: str, *, allowlist: list[str] | tuple[str, ...] = (), require_https: bool = True) -> str | None:
    """Why `url` may not be used (without resolving it), or None when it is acceptable."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535
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
        address = _literal_address(host)
    except ValueError:
        return "has an invalid host"
    if address is not None and _is_private(address):
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
