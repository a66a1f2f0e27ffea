"""TLS without a platform: certificates from a test CA (cryptography), a real TLS server on a
live SSLContext that reloads in place (new handshakes see the new serial, an open connection
keeps working), the production checks, health rows, the alert watch, backup and renew."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
import tarfile
from pathlib import Path

import pytest

from mcp_trading.config import Settings
from mcp_trading.security.cert_health import CertificateWatch, certificate_check
from mcp_trading.security.cert_ops import RenewError, TLSNotConfiguredError, backup_certificates, renew
from mcp_trading.security.certs import describe, issue_ca, issue_server
from mcp_trading.security.exposure import ExposedFileError, check_secret_files
from mcp_trading.security.tls import CertificateReloader, plain_http_warning


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", tls_cert=tmp_path / "c.pem",
                    tls_key=tmp_path / "k.pem", **kw)  # type: ignore[arg-type]


def test_server_certificate_from_a_test_ca(tmp_path: Path) -> None:
    ca = issue_ca()
    info = issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["127.0.0.1"], issuer=ca,
                        days=30)
    read = describe(tmp_path / "c.pem")
    assert read == info and "MCP Trading test CA" in read.issuer and "127.0.0.1" in read.subject
    assert 29.9 < read.days_left() <= 30
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.readline():
        writer.write(data)
        await writer.drain()
    writer.close()


def _client(ca_pem: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_pem))


async def _serial_of(port: int, ca_pem: Path) -> int:
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client(ca_pem),
                                              server_hostname="127.0.0.1")
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    from cryptography import x509

    return int(x509.load_der_x509_certificate(der).serial_number)


def test_reload_reaches_new_handshakes_and_keeps_open_connections(tmp_path: Path) -> None:
    ca = issue_ca()
    ca_pem = tmp_path / "ca.pem"
    from cryptography.hazmat.primitives import serialization

    ca_pem.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    first = issue_server(cert, key, hosts=["127.0.0.1"], issuer=ca)
    reloader = CertificateReloader(cert, key)

    async def scenario() -> None:
        server = await asyncio.start_server(_echo, "127.0.0.1", 0, ssl=reloader.context)
        port = server.sockets[0].getsockname()[1]
        assert await _serial_of(port, ca_pem) == first.serial
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=_client(ca_pem),
                                                       server_hostname="127.0.0.1")
        assert reloader.reload() is False  # nothing changed
        second = issue_server(cert, key, hosts=["127.0.0.1"], issuer=ca)
        assert reloader.reload() is True
        assert await _serial_of(port, ca_pem) == second.serial != first.serial
        writer.write(b"still here\n")  # the connection opened before the reload
        await writer.drain()
        assert await reader.readline() == b"still here\n"
        key.write_bytes(b"not a key")  # halfway through a renewal: the old chain stays
        assert reloader.reload() is False
        assert await _serial_of(port, ca_pem) == second.serial
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(scenario())


def test_settings_need_certificate_and_key_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MCP_TRADING_TLS_CERT and MCP_TRADING_TLS_KEY go together"):
        Settings(tls_cert=tmp_path / "c.pem")


def test_production_warns_about_plain_http_beyond_loopback_only(tmp_path: Path) -> None:
    assert plain_http_warning(Settings(profile="production", host="0.0.0.0")) is not None
    assert "PLAIN HTTP" in (plain_http_warning(Settings(profile="production", host="10.1.2.3"))
                            or "")
    assert plain_http_warning(Settings(profile="production", host="127.0.0.1")) is None
    assert plain_http_warning(Settings(profile="production", host="::1")) is None
    assert plain_http_warning(Settings(profile="dev", host="0.0.0.0")) is None
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"])
    assert plain_http_warning(_settings(tmp_path, profile="production", host="0.0.0.0")) is None


def test_production_refuses_a_readable_tls_key(tmp_path: Path) -> None:
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"])
    check_secret_files(_settings(tmp_path, profile="production"))  # 0600: fine
    os.chmod(tmp_path / "k.pem", 0o640)
    with pytest.raises(ExposedFileError, match="MCP_TRADING_TLS_KEY"):
        check_secret_files(_settings(tmp_path, profile="production"))
    check_secret_files(_settings(tmp_path, profile="dev"))  # dev: allowed


def test_health_row_and_alert_under_the_threshold(tmp_path: Path) -> None:
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"], days=400)
    settings = _settings(tmp_path)
    row = certificate_check(settings, None)
    assert row is not None and row["status"] == "healthy" and row["days_left"] > 399
    watch = CertificateWatch(settings, interval_s=0)
    assert watch.poll() is None
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"], days=3)
    row = certificate_check(settings, None)
    assert row is not None and row["status"] == "degraded" and "certs renew" in row["detail"]
    message = watch.poll()
    assert message is not None and "days to expiry" in message
    assert watch.poll() is None  # once per certificate
    assert certificate_check(Settings(), None) is None  # no TLS: no row
    with socket.socket() as s:  # nothing listening there: down, with the reason
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = certificate_check(settings, ("127.0.0.1", port))
    assert down is not None and down["status"] == "down"


def test_backup_is_a_private_dated_archive(tmp_path: Path) -> None:
    with pytest.raises(TLSNotConfiguredError):
        backup_certificates(Settings(data_dir=tmp_path / "var"))
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"])
    path = backup_certificates(_settings(tmp_path))
    assert path.parent == tmp_path / "var" / "backups" / "certs"
    assert path.stat().st_mode & 0o777 == 0o600
    with tarfile.open(path) as tar:
        assert sorted(tar.getnames()) == ["c.pem", "k.pem"]


def test_renew_in_dev_uses_a_stable_dev_ca(tmp_path: Path) -> None:
    settings = _settings(tmp_path, profile="dev")
    first = renew(settings)
    second = renew(settings)
    assert first.serial != second.serial and first.issuer == second.issuer
    assert "dev CA" in second.issuer
    with pytest.raises(RenewError, match="MCP_TRADING_TLS_RENEW_COMMAND"):
        renew(_settings(tmp_path, profile="production"))


def test_renew_runs_the_configured_command_and_checks_its_result(tmp_path: Path) -> None:
    issue_server(tmp_path / "c.pem", tmp_path / "k.pem", hosts=["localhost"])
    script = tmp_path / "renew.py"
    script.write_text("import sys; from pathlib import Path\n"
                      "from mcp_trading.security.certs import issue_server\n"
                      "issue_server(Path(sys.argv[1]), Path(sys.argv[2]), hosts=['localhost'])\n")
    command = f"{sys.executable} {script} {tmp_path / 'c.pem'} {tmp_path / 'k.pem'}"
    before = describe(tmp_path / "c.pem").serial
    after = renew(_settings(tmp_path, profile="production", tls_renew_command=command))
    assert after.serial != before
    with pytest.raises(RenewError, match="exited 3"):
        renew(_settings(tmp_path, tls_renew_command=f"{sys.executable} -c 'raise SystemExit(3)'"))
    with pytest.raises(RenewError, match="same certificate"):
        renew(_settings(tmp_path, tls_renew_command="true"))


def test_sighup_reloads_and_still_reaches_the_previous_handler(tmp_path: Path) -> None:
    import signal

    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    issue_server(cert, key, hosts=["localhost"])
    reloader = CertificateReloader(cert, key)
    reopened: list[int] = []
    original = signal.signal(signal.SIGHUP, lambda signum, _frame: reopened.append(signum))

    async def scenario() -> None:
        stop = asyncio.Event()
        reloader.start(60.0, stop)  # mtime check far away: only the signal reloads
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if reloader.reloads:
                break
            await asyncio.sleep(0.01)
        stop.set()
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    try:
        asyncio.run(scenario())
    finally:
        signal.signal(signal.SIGHUP, original)
    assert reloader.reloads == 1 and reopened == [signal.SIGHUP]


def test_clients_trust_the_platform_ca_besides_the_system_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_trading.security.tls import trust_platform_ca

    system = tmp_path / "system.pem"
    system.write_bytes(b"# the system's CAs\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(system))
    monkeypatch.delenv("MCP_TRADING_SYSTEM_CA_FILE", raising=False)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"# the platform's CA\n")
    settings = Settings(data_dir=tmp_path / "var", tls_ca=ca)
    bundle = trust_platform_ca(settings)
    assert bundle is not None and os.environ["SSL_CERT_FILE"] == str(bundle)
    assert bundle.read_bytes() == b"# the system's CAs\n\n# the platform's CA\n"
    assert trust_platform_ca(settings) == bundle  # a child process: built from the system's
    assert bundle.read_bytes() == b"# the system's CAs\n\n# the platform's CA\n"
    assert trust_platform_ca(Settings(data_dir=tmp_path / "var")) is None
    with pytest.raises(ValueError, match="MCP_TRADING_TLS_CA"):
        trust_platform_ca(Settings(data_dir=tmp_path / "var", tls_ca=tmp_path / "missing.pem"))
