"""JWT key rotation: key ids, the grace period, several verifiers, the secrets file's rules."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.config_secrets import (
    SecretsDoc,
    SecretsFileError,
    SigningKey,
    read_secrets,
    write_secrets,
)
from mcp_trading.security.principal import Principal, Role
from mcp_trading.security.rotation import jwt_ring, rotate_jwt
from mcp_trading.security.tokens import TokenIssuer, fingerprint_kid

NS = 1_000_000_000
TRADER = Principal(Role.TRADER, "AbCdEfGhIjKl", "acct-1", "bot")
LEGACY = "legacy-secret-" + "x1y2z3" * 6


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, jwt_secret=LEGACY)


def _issuer(settings: Settings, clock: ManualClock) -> TokenIssuer:
    return TokenIssuer(ring=jwt_ring(settings), clock=clock)


def test_tokens_carry_the_signing_key_id(settings: Settings, clock: ManualClock) -> None:
    tokens = _issuer(settings, clock)
    assert jwt.get_unverified_header(tokens.issue(TRADER))["kid"] == fingerprint_kid(LEGACY)
    report = rotate_jwt(settings, grace_s=60, clock=clock)
    token = tokens.issue(TRADER)
    assert jwt.get_unverified_header(token)["kid"] == report["kid"] == tokens.signing_key_id()
    assert tokens.verify(token) == TRADER


def test_old_tokens_verify_until_the_grace_ends_then_are_refused(
        settings: Settings, clock: ManualClock) -> None:
    tokens = TokenIssuer(ring=jwt_ring(settings), clock=clock, ttl_s=7200)
    before = tokens.issue(TRADER)
    report = rotate_jwt(settings, grace_s=600, clock=clock)
    after = tokens.issue(TRADER)
    assert report["previous"] == [{"kid": fingerprint_kid(LEGACY),
                                   "valid_until": "2026-01-01T00:10:00Z"}]
    clock.advance(599 * NS)
    assert tokens.verify(before) == TRADER
    clock.advance(1 * NS)
    assert tokens.verify(before) is None  # grace over: the old key is retired
    assert tokens.verify(after) == TRADER


def test_a_token_without_kid_from_the_legacy_secret_follows_the_same_grace(
        settings: Settings, clock: ManualClock) -> None:
    now = clock.now_ns() // NS
    kidless = jwt.encode({"sub": "k1", "role": "trader", "iat": now, "exp": now + 900,
                          "iss": "mcp-trading"}, _derived(LEGACY), algorithm="HS256")
    tokens = _issuer(settings, clock)
    assert tokens.verify(kidless) is not None
    rotate_jwt(settings, grace_s=5, clock=clock)
    assert tokens.verify(kidless) is not None
    clock.advance(5 * NS)
    assert tokens.verify(kidless) is None


def _derived(secret: str) -> bytes:
    from mcp_trading.security.tokens import _signing_key  # the one derivation, not a copy

    return _signing_key(secret)


def test_grace_zero_refuses_every_earlier_token_at_once(settings: Settings,
                                                        clock: ManualClock) -> None:
    tokens = _issuer(settings, clock)
    first = tokens.issue(TRADER)
    rotate_jwt(settings, grace_s=60, clock=clock)
    second = tokens.issue(TRADER)
    rotate_jwt(settings, grace_s=0, clock=clock)
    assert tokens.verify(first) is None
    assert tokens.verify(second) is None
    assert tokens.verify(tokens.issue(TRADER)) == TRADER
    assert len(read_secrets(settings.resolved_secrets_file).jwt_keys) == 1  # retired ones dropped


def test_a_rotation_never_lengthens_an_earlier_grace(settings: Settings, clock: ManualClock) -> None:
    tokens = TokenIssuer(ring=jwt_ring(settings), clock=clock, ttl_s=7200)
    oldest = tokens.issue(TRADER)
    rotate_jwt(settings, grace_s=10, clock=clock)
    rotate_jwt(settings, grace_s=3600, clock=clock)
    clock.advance(10 * NS)
    assert tokens.verify(oldest) is None


def test_another_process_sees_a_new_kid_at_once(tmp_path: Path, clock: ManualClock) -> None:
    """Host B verifies a token host A signed with a key B's cache has not seen yet: the
    unknown kid forces a re-read of the file instead of waiting for the re-check interval."""
    settings = Settings(data_dir=tmp_path, jwt_secret=LEGACY)
    verifier = _issuer(settings, clock)
    assert verifier.verify(verifier.issue(TRADER)) == TRADER  # B has read (and cached) the file
    fresh = SigningKey("k-hostA", "s" * 20 + "t" * 30, clock.now_ns())
    write_secrets(settings.resolved_secrets_file, SecretsDoc(jwt_keys=(fresh,)))  # A's rotation
    signer = TokenIssuer("unused", ring=lambda _force: (fresh,), clock=clock)
    assert verifier.verify(signer.issue(TRADER)) == TRADER
    forged = TokenIssuer("unused", ring=lambda _f: (SigningKey("k-hostA", "z" * 50),), clock=clock)
    assert verifier.verify(forged.issue(TRADER)) is None  # the kid alone proves nothing


def test_the_secrets_file_is_private_and_the_report_holds_no_secret(
        settings: Settings, clock: ManualClock) -> None:
    report = rotate_jwt(settings, grace_s=60, clock=clock)
    path = settings.resolved_secrets_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = read_secrets(path)
    text = json.dumps(report)
    for key in written.jwt_keys:
        assert key.secret not in text
        assert key.secret not in repr(written)
    assert LEGACY not in text
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_negative_or_infinite_grace_is_refused(settings: Settings) -> None:
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="must be a finite number >= 0"):
            rotate_jwt(settings, grace_s=bad)
    assert not settings.resolved_secrets_file.exists()


def test_a_broken_secrets_file_names_the_problem_not_the_content(settings: Settings) -> None:
    path = settings.resolved_secrets_file
    path.write_text('{"jwt_keys": [{"kid": "a", "secret": ""}], "smtp_password": "hunter22"}')
    with pytest.raises(SecretsFileError, match=r"jwt_keys\[0\] needs a non-empty") as err:
        rotate_jwt(settings, grace_s=1)
    assert "hunter22" not in str(err.value)
    path.write_text("not json hunter22")
    with pytest.raises(SecretsFileError, match="is not valid JSON") as err:
        read_secrets(path)
    assert "hunter22" not in str(err.value)


def test_production_signs_with_the_rotated_key(tmp_path: Path, clock: ManualClock) -> None:
    from mcp_trading.security.authenticator import build_authenticator
    from mcp_trading.security.tokens import InsecureSecretError

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    production = Settings(data_dir=tmp_path, profile="production", database_url=url)
    with pytest.raises(InsecureSecretError, match="JWT_SECRET"):
        build_authenticator(production)  # the development default signs: refused
    rotate_jwt(production, grace_s=0, clock=clock)
    build_authenticator(production).close()  # the file's fresh key signs now


def test_a_broken_file_after_a_good_read_keeps_the_last_good_ring(settings: Settings,
                                                                  clock: ManualClock) -> None:
    tokens = _issuer(settings, clock)
    rotate_jwt(settings, grace_s=60, clock=clock)
    token = tokens.issue(TRADER)
    settings.resolved_secrets_file.write_text("{ half a file")
    kept = settings.secrets(force=True)  # re-read now: broken, so the last good content stays
    assert kept.jwt_keys and kept.jwt_keys[0].kid == tokens.signing_key_id()
    assert tokens.verify(token) == TRADER  # a running process keeps serving
    with pytest.raises(SecretsFileError):
        read_secrets(settings.resolved_secrets_file)
