"""What `mcp-trading certs check|renew|backup` do (cli/certs.py prints): read the configured
certificate, renew it (the configured command, or in dev a new certificate from a local dev
CA under <data dir>/tls), wait until every service presents it, archive certificate + key.

A renewal reaches the running services without a restart: each process reloads the files
when their mtime changes (security/tls.py); `wait_served` proves it by the serial number
each service's new handshake presents.
"""

from __future__ import annotations

import io
import os
import shlex
import socket
import ssl
import subprocess
import tarfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mcp_trading.domain.errors import TradingError
from mcp_trading.security.certs import (
    CertificateError,
    CertificateInfo,
    Issuer,
    describe,
    info_of,
    issue_ca,
    issue_server,
    write_atomically,
)

if TYPE_CHECKING:
    from mcp_trading.config import Settings

__all__ = ["RenewError", "TLSNotConfiguredError", "backup_certificates", "configured",
           "dev_issuer", "renew", "served_certificate", "wait_served"]


class TLSNotConfiguredError(TradingError, ValueError):
    """A certs verb without MCP_TRADING_TLS_CERT / _KEY."""


class RenewError(TradingError, RuntimeError):
    """The renewal command failed, or left no valid certificate; the old one stays served."""


def configured(settings: Settings) -> tuple[Path, Path]:
    if settings.tls_cert is None or settings.tls_key is None:
        raise TLSNotConfiguredError(
            "no certificate is configured: set MCP_TRADING_TLS_CERT and MCP_TRADING_TLS_KEY "
            "(PEM files) so the services serve HTTPS")
    return settings.tls_cert, settings.tls_key


def dev_issuer(settings: Settings) -> Issuer:
    """The dev profile's local CA (<data dir>/tls/dev-ca.pem + .key, created once): clients
    trust it with MCP_TRADING_TLS_CA, so a renewed certificate stays trusted."""
    folder = settings.data_dir / "tls"
    cert_path, key_path = folder / "dev-ca.pem", folder / "dev-ca.key"
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return Issuer(cert, key)  # type: ignore[arg-type]
    issuer = issue_ca("MCP Trading dev CA", days=3650)
    write_atomically(key_path, issuer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), 0o600)
    write_atomically(cert_path, issuer.cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return issuer


def renew(settings: Settings, *, days: float = 90) -> CertificateInfo:
    """A new certificate at the configured paths: the renewal command's, or (dev) one from
    the dev CA. RenewError (the old certificate stays) when that fails."""
    cert, key = configured(settings)
    before = _serial_or_none(cert)
    if settings.tls_renew_command:
        argv = shlex.split(settings.tls_renew_command)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenewError(f"MCP_TRADING_TLS_RENEW_COMMAND could not run: {exc}") from None
        if done.returncode != 0:
            raise RenewError(f"MCP_TRADING_TLS_RENEW_COMMAND exited {done.returncode}: "
                             f"{(done.stderr or done.stdout).strip()[-400:]}")
        try:
            info = describe(cert)
        except CertificateError as exc:
            raise RenewError(f"after the renewal command: {exc}") from None
        if info.serial == before:
            raise RenewError(f"the renewal command left the same certificate at {cert} (serial "
                             f"{info.serial:x}); check where it writes")
        return info
    if settings.profile != "dev":
        raise RenewError("the production profile renews with MCP_TRADING_TLS_RENEW_COMMAND "
                         "(e.g. `certbot renew --deploy-hook ...`); set it")
    hosts = sorted({"localhost", "127.0.0.1", settings.bind_host} - {"0.0.0.0", "::", ""})
    return issue_server(cert, key, hosts=hosts, issuer=dev_issuer(settings), days=days)


def _serial_or_none(path: Path) -> int | None:
    try:
        return describe(path).serial
    except CertificateError:
        return None


def served_certificate(host: str, port: int, timeout: float = 3.0) -> CertificateInfo:
    """What a new handshake with host:port presents (not verified: it is only read)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise CertificateError(f"{host}:{port} presented no certificate")
    return info_of(x509.load_der_x509_certificate(der))


def wait_served(ports: dict[str, tuple[str, int]], serial: int, timeout: float,
                on_wait: Callable[[list[str]], None] | None = None) -> list[str]:
    """Wait until every service presents `serial`; the services that still do not."""
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        still = []
        for name in pending:
            try:
                if served_certificate(*ports[name]).serial != serial:
                    still.append(name)
            except (OSError, CertificateError):
                still.append(name)
        pending = still
        if not pending or time.monotonic() > deadline:
            break
        if on_wait is not None:
            on_wait(pending)
        time.sleep(0.25)
    return pending


def backup_certificates(settings: Settings) -> Path:
    """A dated tar.gz (mode 0600) of the certificate and key under <data dir>/backups/certs."""
    cert, key = configured(settings)
    folder = settings.data_dir / "backups" / "certs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"certs-{stamp}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in (cert, key, settings.tls_ca):
            if path is not None and path.exists():
                tar.add(path, arcname=path.name)
    write_atomically(target, buffer.getvalue(), 0o600)
    os.chmod(folder, 0o700)
    return target
