"""HTTPS for every service: one server `ssl.SSLContext` per process, its certificate
reloaded in place when the files change (or on SIGHUP), and the clients' verification.

uvicorn builds its context in `Config.load()` through `ssl_context_factory`; every server of
a process gets the same live context from `server_context`. `SSLContext.load_cert_chain` on
that context changes what *new* handshakes present; open connections keep theirs, so a
renewal drops no connection and needs no restart. A reload that fails (a key and certificate
that do not match halfway through a renewal) keeps the old chain and is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_trading.config import Settings

__all__ = ["CertificateReloader", "client_verify", "plain_http_warning", "server_context",
           "ssl_context_factory", "trust_platform_ca"]

log = logging.getLogger("mcp_trading.tls")

_SYSTEM_CA = "MCP_TRADING_SYSTEM_CA_FILE"
_reloaders: dict[tuple[Path, Path], CertificateReloader] = {}


def _mtimes(*paths: Path) -> tuple[float, ...]:
    out = []
    for path in paths:
        try:
            out.append(path.stat().st_mtime_ns)
        except FileNotFoundError:
            out.append(0)
    return tuple(out)


class CertificateReloader:
    """The live server context of one certificate + key, and what reloads it."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.cert, self.key = cert, key
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(cert), str(key))
        self._seen = _mtimes(cert, key)
        self.reloads = 0
        self._task: asyncio.Task[None] | None = None

    def reload(self, *, force: bool = False) -> bool:
        """Load the files again when they changed (always with `force`); True when the
        context now presents a new chain."""
        seen = _mtimes(self.cert, self.key)
        if seen == self._seen and not force:
            return False
        try:
            self.context.load_cert_chain(str(self.cert), str(self.key))
        except (ssl.SSLError, OSError) as exc:  # mid-renewal: the old chain stays
            log.warning("TLS certificate %s not reloaded (%s); keeping the current one",
                        self.cert, type(exc).__name__)
            return False
        self._seen = seen
        self.reloads += 1
        log.info("TLS certificate %s reloaded (new handshakes present it)", self.cert)
        return True

    async def watch(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
            self.reload()

    def start(self, interval_s: float, stop: asyncio.Event) -> None:
        """Watch the files' mtime on the running loop until `stop`; SIGHUP reloads at once."""
        if self._task is not None and not self._task.done():
            return
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self.watch(interval_s, stop), name="tls-reload")
        previous = signal.getsignal(signal.SIGHUP)  # the log files' reopen (log_files.py)

        def on_hup() -> None:
            self.reload(force=True)
            if callable(previous):  # chained: SIGHUP still reopens the log files
                previous(signal.SIGHUP, None)

        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, on_hup)


def server_context(settings: Settings) -> CertificateReloader | None:
    """The process's reloader for the configured certificate (None: plain HTTP)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    paths = (settings.tls_cert.resolve(), settings.tls_key.resolve())
    reloader = _reloaders.get(paths)
    if reloader is None:
        reloader = _reloaders[paths] = CertificateReloader(*paths)
    return reloader


def ssl_context_factory(settings: Settings) -> Any:
    """The `uvicorn.Config(ssl_context_factory=...)` of `settings` (None: plain HTTP)."""
    reloader = server_context(settings)
    if reloader is None:
        return None
    context = reloader.context
    return lambda _config, _default: context


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_warning(settings: Settings) -> str | None:
    """The warning the production profile logs when it serves plain HTTP beyond loopback."""
    if settings.profile != "production" or settings.tls_cert is not None:
        return None
    host = settings.bind_host
    if _loopback(host):
        return None
    return (f"SERVING PLAIN HTTP ON {host} IN PRODUCTION: API keys, JWTs and orders cross the "
            "network unencrypted. Set MCP_TRADING_TLS_CERT and MCP_TRADING_TLS_KEY (HTTPS), "
            "or bind to 127.0.0.1 behind a TLS proxy")


def client_verify(settings: Settings) -> ssl.SSLContext | bool:
    """What an httpx client passes as `verify=`: the system's CAs plus MCP_TRADING_TLS_CA."""
    if settings.tls_ca is None:
        return True
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(settings.tls_ca))
    return context


def trust_platform_ca(settings: Settings) -> Path | None:
    """Make every HTTPS client of this process (httpx, the MCP SDK's client, curl in a child
    script) trust MCP_TRADING_TLS_CA besides the system's CAs (SSL_CERT_FILE's, else
    certifi's): a bundle of both under <data dir>/tls that SSL_CERT_FILE then names (httpx
    and OpenSSL read it). The bundle's path, or None without MCP_TRADING_TLS_CA."""
    if settings.tls_ca is None:
        return None
    import certifi

    bundle = (settings.data_dir / "tls" / "ca-bundle.pem").resolve()
    current = os.environ.get("SSL_CERT_FILE")
    base = os.environ.get(_SYSTEM_CA) if current == str(bundle) else current
    base = base or certifi.where()
    try:
        ca = settings.tls_ca.read_bytes()
        system = Path(base).read_bytes()
    except OSError as exc:
        raise ValueError(f"MCP_TRADING_TLS_CA {settings.tls_ca} or the system CA file {base} "
                         f"cannot be read ({exc.strerror}); point it at a PEM CA bundle") from None
    tmp = bundle.with_name(f".ca-bundle.{os.getpid()}.tmp")
    try:
        bundle.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(system + b"\n" + ca)
        tmp.replace(bundle)
    except OSError as exc:
        raise ValueError(f"cannot write the CA bundle {bundle} ({exc.strerror}); check the "
                         "data directory's permissions") from None
    os.environ[_SYSTEM_CA] = base  # a child re-bundles from the system's, not from ours
    os.environ["SSL_CERT_FILE"] = str(bundle)
    return bundle
