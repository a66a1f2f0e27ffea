"""X.509 certificates with the `cryptography` package: read what a PEM certificate says,
issue a CA, a server certificate signed by it, or a self-signed one (dev `certs renew`,
tests). Keys are written 0600 by rename, so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mcp_trading.domain.errors import TradingError

__all__ = ["CertificateError", "CertificateInfo", "Issuer", "describe", "info_of", "issue_ca",
           "issue_server", "write_atomically"]

_Key = ec.EllipticCurvePrivateKey


class CertificateError(TradingError, ValueError):
    """A certificate file is missing or not a PEM certificate; the message names it."""


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_after: dt.datetime
    serial: int

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400.0

    def as_dict(self) -> dict[str, object]:
        return {"subject": self.subject, "issuer": self.issuer,
                "not_after": self.not_after.isoformat(), "serial": f"{self.serial:x}",
                "days_left": round(self.days_left(), 2)}


@dataclass(frozen=True)
class Issuer:
    """A CA's certificate and key (what `issue_server` signs with)."""
    cert: x509.Certificate
    key: _Key


def describe(path: Path) -> CertificateInfo:
    """The first certificate of the PEM file at `path`."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise CertificateError(f"no certificate at {path}; set MCP_TRADING_TLS_CERT to the "
                               "PEM file the services serve") from None
    except ValueError:
        raise CertificateError(f"{path} is not a PEM certificate") from None
    return info_of(cert)


def info_of(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(subject=cert.subject.rfc4514_string(),
                           issuer=cert.issuer.rfc4514_string(),
                           not_after=cert.not_valid_after_utc, serial=cert.serial_number)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MCP Trading Platform")])


def _builder(subject: x509.Name, issuer: x509.Name, key: _Key, days: float) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days)))


def issue_ca(common_name: str = "MCP Trading test CA", days: float = 365) -> Issuer:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_builder(_name(common_name), _name(common_name), key, days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return Issuer(cert, key)


def _alt_names(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue_server(cert_path: Path, key_path: Path, *, hosts: list[str],
                 issuer: Issuer | None = None, days: float = 90) -> CertificateInfo:
    """A server certificate for `hosts` (DNS names or IPs) written to `cert_path` (0644) and
    its key to `key_path` (0600); signed by `issuer`, or self-signed (its own CA) when None."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(hosts[0] if hosts else "localhost")
    builder = (_builder(subject, issuer.cert.subject if issuer else subject, key, days)
               .add_extension(_alt_names(hosts or ["localhost"]), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False))
    if issuer is None:  # a self-signed certificate is its own CA (clients trust it directly)
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # the key first: a reloader that sees the new certificate finds its key already there
    write_atomically(key_path, key_pem, 0o600)
    write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return info_of(cert)


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    tmp.replace(path)
