"""Server-side request forgery guards for URLs partners and operators hand us.

Two rules: a host is judged in the form a resolver will finally see (Unicode look-alikes folded,
numeric spellings decoded, IPv4 addresses found inside IPv6 ones), and where Crier itself connects,
it connects to the very address it checked (`resolve_checked` + `pinned_request`), so a DNS answer
that changes between the check and the connection cannot point the request at a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# A last label like these makes resolvers (inet_aton) and URL parsers (WHATWG) read the host as IPv4.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
# Letters, digits, '-', '_' and dots once normalised: no '%', backslash, space or control a parser may reread.
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")
# Dots IDNA treats as label separators (ideographic, fullwidth, halfwidth).
_IDNA_DOTS = re.compile("[\u3002\uff0e\uff61]")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes whose last 32 bits are an IPv4 address that the packet effectively reaches:
# SIIT (::ffff:0:0:0/96, RFC 6145) and NAT64 (64:ff9b::/96 well-known, 64:ff9b:1::/48 local-use, RFC 8215).
_EMBEDDING_PREFIXES = tuple(
    ipaddress.IPv6Network(net) for net in ("::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
)


class UrlRefused(Exception):
    """A URL Crier must not connect to; `problem` reads after "URL" ("must use https", ...)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries: mapped, compatible, SIIT, NAT64, 6to4, Teredo."""
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client): the client is where packets end up
    value = int(address)
    if value >> 32 == 0 and value > 1:  # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks)
        found.append(ipaddress.IPv4Address(value))
    if any(address in network for network in _EMBEDDING_PREFIXES):
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return found


def _is_private(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if any(_is_private(embedded) for embedded in _embedded_ipv4(address)):
            return True
    # Not global covers private, loopback, link-local, shared (100.64/10), reserved and unspecified.
    return not address.is_global or address.is_multicast


def normalized_host(raw: str) -> str:
    """The host as resolvers see it: NFKC-folded (fullwidth digits, look-alike letters), IDNA-encoded.

    ValueError when no resolver could accept it.
    """
    host = _IDNA_DOTS.sub(".", unicodedata.normalize("NFKC", raw)).lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(raw) from None


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


@dataclass(frozen=True)
class _Parsed:
    parts: SplitResult
    host: str  # normalised
    address: Address | None  # when the host is a literal address


def _parse(url: str) -> _Parsed | str:
    try:
        parts = urlsplit(url)
        raw_host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port outside 0-65535
    except ValueError:
        return "is not a valid URL"
    if not raw_host:
        return "has no host"
    try:
        host = normalized_host(raw_host)
        address = _literal_address(host)
    except ValueError:
        return "has an invalid host"
    return _Parsed(parts, host, address)


def _allowed(host: str, allowlist: list[str] | tuple[str, ...]) -> bool:
    return host in {entry.lower().rstrip(".") for entry in allowlist}


def url_problem(
    url: str, *, allowlist: list[str] | tuple[str, ...] = (), require_https: bool = True
) -> str | None:
    """Why `url` may not be used (without resolving it), or None when it is acceptable."""
    parsed = _parse(url)
    if isinstance(parsed, str):
        return parsed
    parts, host = parsed.parts, parsed.host
    if _allowed(host, allowlist):
        return None if parts.scheme in ("https", "http") else "must use https"
    if require_https and parts.scheme != "https":
        return "must use https"
    if parts.username or parts.password:
        return "must not carry credentials"
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return "must not point at localhost"
    if parsed.address is not None and _is_private(parsed.address):
        return "must not point at a private, loopback or link-local address"
    return None


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed every check, and the address it must be connected to."""

    url: str
    host: str  # normalised, what Host and TLS SNI must carry
    address: str | None  # the checked IP to connect to; None for an allow-listed host (connect by name)


async def resolve_checked(url: str, *, allowlist: list[str] | tuple[str, ...] = ()) -> CheckedUrl:
    """Check `url`, resolve its host once and check every address; UrlRefused otherwise."""
    problem = url_problem(url, allowlist=allowlist)
    if problem is not None:
        raise UrlRefused(problem)
    parsed = _parse(url)
    assert not isinstance(parsed, str)  # url_problem accepted it
    if parsed.address is not None:
        return CheckedUrl(url, parsed.host, str(parsed.address))
    if _allowed(parsed.host, allowlist):  # the operator vouches for it (a LAN provider, the sandbox)
        return CheckedUrl(url, parsed.host, None)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parsed.host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused("does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UrlRefused("does not resolve")
    # Even one private answer refuses the host: a resolver may hand out any of them later.
    if any(_is_private(address) for address in addresses):
        raise UrlRefused("resolves to a private, loopback or link-local address")
    return CheckedUrl(url, parsed.host, str(addresses[0]))


async def resolved_url_problem(url: str, *, allowlist: list[str] | tuple[str, ...] = ()) -> str | None:
    """Like url_problem, and also refuse hostnames that resolve to private addresses."""
    try:
        await resolve_checked(url, allowlist=allowlist)
    except UrlRefused as refused:
        return refused.problem
    return None


async def pinned_request(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    allowlist: list[str] | tuple[str, ...] = (),
    **options: Any,
) -> httpx.Response:
    """Send a request to the address `url` was checked against, never to a second DNS answer.

    The URL's host is replaced by the checked IP for the connection, while the Host header and the TLS
    server name (SNI, and so certificate verification) keep the real host name. UrlRefused when the
    URL fails its checks.
    """
    checked = await resolve_checked(url, allowlist=allowlist)
    if checked.address is None:
        return await http.request(method, url, **options)
    parts = urlsplit(url)
    address = ipaddress.ip_address(checked.address)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host_header = checked.host if parts.port in (None, default_port) else f"{checked.host}:{parts.port}"
    headers = {**dict(options.pop("headers", None) or {}), "Host": host_header}
    extensions = {**dict(options.pop("extensions", None) or {}), "sni_hostname": checked.host}
    return await http.request(method, target, headers=headers, extensions=extensions, **options)
