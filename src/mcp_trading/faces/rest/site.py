"""Which Host names and Origins are the platform's own, and a request's site as the guard sees it.

    SitePolicy.from_settings(s)     the Host names and Origins that are the platform's own
    is_cross_site(scope)            the guard's verdict, for the dev profile's loopback trust
    host_name(text)                 a host name as a Host header carries it

Origins. A request's `Origin` is *same-site* when it is this very service (scheme://Host) or
another service of the platform (an allowed host name on one of the service ports); *listed*
when it is in MCP_TRADING_ALLOWED_ORIGINS; otherwise *foreign* (`null` included). Listed
origins pass the guard's cross-site check but, like foreign ones and like a `Sec-Fetch-Site`
of cross-site or same-site, never get the dev profile's loopback trust: a page must present a
credential of its own. The checks themselves are the guard's (rest/guard.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.types import Scope

from mcp_trading.services import registry

__all__ = ["OTHER_SITES", "SITE_KEY", "Site", "SitePolicy", "host_name", "is_cross_site"]

#: where the guard leaves its verdict on the request's origin in the ASGI scope
SITE_KEY = "mcp_trading.site"
Site = Literal["same", "listed", "foreign"]

#: the `Sec-Fetch-Site` values that signal another site (not same-origin or none)
OTHER_SITES = frozenset({b"cross-site", b"same-site"})
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _split_authority(authority: str) -> tuple[str, int | None] | None:
    """(host name, port) of `host`, `host:port`, `[v6]` or `[v6]:port`; None if malformed."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host, rest = authority[:end + 1], authority[end + 1:]
    else:
        host, sep, port_text = authority.partition(":")
        rest = sep + port_text
    if not host:
        return None
    if not rest:
        return host, None
    if not rest.startswith(":") or not rest[1:].isdigit() or len(rest) > 6:
        return None
    return host, int(rest[1:])


def host_name(text: str) -> str:
    """A host name as it appears in a Host header: lower case, IPv6 in brackets."""
    text = text.strip().lower()
    if ":" in text and not text.startswith("["):
        return f"[{text}]"
    return text


def _origin_parts(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port with the scheme's default filled in) of an Origin; None if not one."""
    scheme, sep, authority = origin.strip().lower().partition("://")
    if not sep or scheme not in ("http", "https") or "/" in authority or "@" in authority:
        return None
    parts = _split_authority(authority)
    if parts is None:
        return None
    host, port = parts
    return scheme, host, _DEFAULT_PORTS[scheme] if port is None else port


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """Which Host names and Origins belong to the platform."""

    hosts: frozenset[str]  # host names (no port), lower case, IPv6 in brackets
    ports: frozenset[int]  # the service ports: an allowed host on one of them is same-site
    origins: frozenset[str]  # listed extra origins, "scheme://host[:port]" as browsers send them

    @classmethod
    def from_settings(cls, settings: Any) -> SitePolicy:
        """Loopback names, the bind address, the hosts of MCP_TRADING_SERVICE_URLS and
        MCP_TRADING_ALLOWED_HOSTS; the origins of those hosts on the service ports, plus
        MCP_TRADING_ALLOWED_ORIGINS."""
        hosts = set(_LOOPBACK_HOSTS)
        bind = host_name(settings.bind_host)
        if bind not in _WILDCARD_BINDS:
            hosts.add(bind)
        ports = {settings.port(name) for name in registry.names()} - {0}
        for url in settings.service_urls.values():
            parts = urlsplit(url)
            if parts.hostname:
                hosts.add(host_name(parts.hostname))
                ports.add(parts.port or _DEFAULT_PORTS.get(parts.scheme, 80))
        hosts.update(host_name(h) for h in settings.allowed_hosts)
        return cls(frozenset(hosts), frozenset(ports), frozenset(settings.allowed_origins))

    def host_allowed(self, host_header: str | None) -> bool:
        if host_header is None:
            return False
        parts = _split_authority(host_header)
        return parts is not None and parts[0] in self.hosts

    def site_of(self, origin: str, host_header: str, scheme: str) -> Site:
        """How a request's Origin relates to the platform (its Host already allowed)."""
        parts = _origin_parts(origin)
        if parts is not None:
            o_scheme, o_host, o_port = parts
            here = _split_authority(host_header)
            if here is not None:
                port = here[1] if here[1] is not None else _DEFAULT_PORTS.get(scheme, 80)
                if o_scheme == scheme and o_host == here[0] and o_port == port:
                    return "same"  # this very service
            if o_host in self.hosts and o_port in self.ports:
                return "same"  # another service of the platform
        if origin.strip().lower().rstrip("/") in self.origins:
            return "listed"
        return "foreign"

    def mcp_hosts(self) -> list[str]:
        """The allowed hosts in the MCP SDK's form (`name` and `name:*`)."""
        return sorted({form for h in self.hosts for form in (h, f"{h}:*")})

    def mcp_origins(self) -> list[str]:
        """The same-site and listed origins in the MCP SDK's form (exact strings)."""
        origins = set(self.origins)
        for host in self.hosts:
            for port in self.ports:
                for scheme in ("http", "https"):
                    origins.add(f"{scheme}://{host}:{port}")
                    if _DEFAULT_PORTS[scheme] == port:
                        origins.add(f"{scheme}://{host}")
        return sorted(origins)


def is_cross_site(scope: Scope) -> bool:
    """Whether the request carries a cross-site signal (then loopback trust never applies).

    The guard's verdict when it ran; without one (an app served without the guard), any
    `Origin` or a `Sec-Fetch-Site` of cross-site or same-site counts as cross-site.
    """
    site = scope.get(SITE_KEY)
    if site is not None:
        return bool(site != "same")
    for name, value in scope.get("headers", ()):
        if name == b"origin" or (name == b"sec-fetch-site" and value in OTHER_SITES):
            return True
    return False

