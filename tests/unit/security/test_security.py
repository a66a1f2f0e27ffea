"""API keys, JWTs and request authentication, on a real SQLite store."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import api_keys
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.security import authenticator as authenticator_module
from mcp_trading.security import keys as keys_module
from mcp_trading.security import redact as redact_module
from mcp_trading.security import tokens as tokens_module
from mcp_trading.security.authenticator import LOOPBACK_PRINCIPAL, Authenticator, build_authenticator
from mcp_trading.security.keys import KeyStore, UnknownKeyError
from mcp_trading.security.principal import Principal, Role
from mcp_trading.security.redact import redact, redact_event
from mcp_trading.security.tokens import (
    DEV_DEFAULT_JWT_SECRET,
    MIN_JWT_SECRET_BITS,
    InsecureSecretError,
    TokenIssuer,
    check_jwt_secret,
    estimate_secret_bits,
)

SECRET = "s" * 40
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
NS = 1_000_000_000


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def keys(engine: Engine, clock: ManualClock) -> KeyStore:
    return KeyStore(engine, hasher=CHEAP, ttl=2.0, clock=clock)


def _authenticator(keys: KeyStore, clock: ManualClock,
                   profile: authenticator_module.Profile) -> Authenticator:
    return Authenticator(keys, TokenIssuer(SECRET, clock=clock), profile)


def test_public_surface_is_pinned() -> None:
    assert set(keys_module.__all__) == {
        "ALL_ACCOUNTS", "KEY_PREFIX", "MAX_CREDENTIAL_LENGTH", "KeyRecord", "KeyStore",
        "RevokedKeyError", "UnknownKeyError",
    }
    assert set(tokens_module.__all__) == {
        "DEV_DEFAULT_JWT_SECRET", "ISSUER", "MIN_JWT_SECRET_BITS", "MIN_JWT_SECRET_LENGTH",
        "InsecureSecretError", "RingSource", "TokenIssuer", "check_jwt_secret",
        "estimate_secret_bits", "fingerprint_kid", "static_ring",
    }
    assert set(authenticator_module.__all__) == {
        "LOOPBACK_PRINCIPAL", "Authenticator", "Profile", "build_authenticator", "is_loopback",
    }
    assert set(redact_module.__all__) == {"redact", "redact_event"}


# --- API keys ---------------------------------------------------------------------------------


def test_created_key_verifies_to_its_principal(keys: KeyStore) -> None:
    record, plaintext = keys.create(Role.TRADER, "acct-1", "bot")

    prefix, key_id, secret = plaintext.split("_", 2)
    assert (prefix, key_id) == ("mcpt", record.id)
    assert len(key_id) == 12 and len(secret) >= 43  # 32 bytes of token_urlsafe
    assert keys.verify(plaintext) == Principal(Role.TRADER, record.id, "acct-1", "bot")
    assert keys.verify(plaintext) == Principal(Role.TRADER, record.id, "acct-1", "bot")  # cached


def test_a_wrong_secret_is_rejected_before_and_after_a_success(keys: KeyStore) -> None:
    record, plaintext = keys.create(Role.VIEWER, all_accounts=True)
    wrong = f"mcpt_{record.id}_{'x' * 43}"

    assert keys.verify(wrong) is None
    assert keys.verify(plaintext) is not None
    assert keys.verify(wrong) is None
    assert keys.verify(plaintext + "x") is None


@pytest.mark.parametrize("garbage", ["", "mcpt_", "mcpt_short_secret", "nope", "mcpt_abc!defghijk_x",
                                     "mcpt_" + "a" * 12 + "_" + "b" * 5000])
def test_malformed_keys_are_rejected(keys: KeyStore, garbage: str) -> None:
    assert keys.verify(garbage) is None


def test_an_unknown_id_is_rejected(keys: KeyStore) -> None:
    assert keys.verify("mcpt_AAAAAAAAAAAA_" + "b" * 43) is None


def test_repeating_a_bad_key_does_not_rerun_argon2(engine: Engine, clock: ManualClock) -> None:
    calls = 0

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            nonlocal calls
            calls += 1
            return super().verify(hash, password)

    keys = KeyStore(engine, hasher=Counting(time_cost=1, memory_cost=8, parallelism=1), clock=clock)
    record, plaintext = keys.create(Role.VIEWER, all_accounts=True)
    bad = f"mcpt_{record.id}_{'x' * 43}"

    for _ in range(50):
        assert keys.verify(bad) is None
    assert calls == 1
    for _ in range(50):
        assert keys.verify(plaintext) is not None
        assert keys.verify(f"mcpt_{record.id}_{'y' * 43}") is None  # known id: a hash compare
    assert calls == 2


def test_a_key_revoked_by_another_process_stops_within_the_ttl(engine: Engine, tmp_path: Path,
                                                               clock: ManualClock) -> None:
    server = KeyStore(engine, hasher=CHEAP, ttl=2.0, clock=clock)
    record, plaintext = server.create(Role.OPERATOR, all_accounts=True, name="ops")
    assert server.verify(plaintext) is not None

    cli_engine = create_store_engine(f"sqlite:///{tmp_path / 'keys.db'}")  # the `keys revoke` side
    try:
        revoked = KeyStore(cli_engine, hasher=CHEAP).revoke(record.id)
    finally:
        cli_engine.dispose()
    assert revoked.revoked_at is not None

    clock.advance(2 * NS)
    assert server.verify(plaintext) is None
    clock.advance(60 * NS)
    assert server.verify(plaintext) is None


def test_a_revoked_key_stops_on_real_time_too(engine: Engine, tmp_path: Path) -> None:
    server = KeyStore(engine, hasher=CHEAP, ttl=0.05)
    record, plaintext = server.create(Role.VIEWER, all_accounts=True)
    assert server.verify(plaintext) is not None
    other = create_store_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    try:
        KeyStore(other, hasher=CHEAP).revoke(record.id)
    finally:
        other.dispose()
    time.sleep(0.06)
    assert server.verify(plaintext) is None


def test_revoke_is_idempotent_and_unknown_ids_are_named(keys: KeyStore, clock: ManualClock) -> None:
    record, _ = keys.create(Role.VIEWER, all_accounts=True)
    first = keys.revoke(record.id)
    clock.advance(5 * NS)
    assert keys.revoke(record.id).revoked_at == first.revoked_at
    with pytest.raises(UnknownKeyError, match="nosuchkey"):
        keys.revoke("nosuchkey")


def test_revoke_all_ends_every_key_of_a_role_at_once_even_when_cached(keys: KeyStore) -> None:
    trader, trader_key = keys.create(Role.TRADER, "acct-1")
    admin, admin_key = keys.create(Role.ADMIN, all_accounts=True)
    assert keys.verify(trader_key) is not None and keys.verify(admin_key) is not None  # cached

    assert [r.id for r in keys.revoke_all(Role.TRADER)] == [trader.id]
    assert keys.verify(trader_key) is None  # no waiting for the TTL in this process
    assert keys.verify(admin_key) is not None
    [last] = keys.revoke_all()
    assert (last.id, last.active) == (admin.id, False)
    assert keys.verify(admin_key) is None
    assert keys.revoke_all() == []  # nothing active is left: nothing to do


def test_the_stored_hash_never_is_or_contains_the_secret(keys: KeyStore, engine: Engine) -> None:
    _, plaintext = keys.create(Role.ADMIN, all_accounts=True)
    secret = plaintext.split("_", 2)[2]
    with engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.secret_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert secret not in stored and plaintext not in stored


def test_list_shows_records_but_never_a_hash_or_secret(keys: KeyStore, engine: Engine,
                                                       clock: ManualClock) -> None:
    first, plaintext = keys.create(Role.VIEWER, all_accounts=True, name="a")
    clock.advance(1)
    keys.create(Role.TRADER, "acct-2", "b")
    keys.revoke(first.id)
    with engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.secret_hash)).scalars().all()

    listed = keys.list()
    assert [(r.name, r.role, r.active) for r in listed] == [("a", Role.VIEWER, False),
                                                            ("b", Role.TRADER, True)]
    text = repr(listed)
    assert "secret_hash" not in text and "$argon2" not in text
    assert all(h not in text for h in stored)
    assert plaintext.split("_", 2)[2] not in text


def test_use_is_recorded_at_most_once_a_minute(keys: KeyStore, clock: ManualClock) -> None:
    record, plaintext = keys.create(Role.VIEWER, all_accounts=True)
    keys.verify(plaintext)
    first = keys.get(record.id).last_used_at
    assert first == clock.now_ns()
    clock.advance(3 * NS)
    keys.verify(plaintext)
    assert keys.get(record.id).last_used_at == first
    clock.advance(60 * NS)
    keys.verify(plaintext)
    assert keys.get(record.id).last_used_at == clock.now_ns()


# --- JWTs -------------------------------------------------------------------------------------

TRADER = Principal(Role.TRADER, "AbCdEfGhIjKl", "acct-1", "bot")


def test_token_roundtrip_keeps_the_principal(clock: ManualClock) -> None:
    tokens = TokenIssuer(SECRET, clock=clock)
    assert tokens.verify(tokens.issue(TRADER)) == TRADER


def test_an_expired_token_is_rejected(clock: ManualClock) -> None:
    tokens = TokenIssuer(SECRET, ttl_s=900, clock=clock)
    token = tokens.issue(TRADER)
    clock.advance(899 * NS)
    assert tokens.verify(token) == TRADER
    clock.advance(1 * NS)
    assert tokens.verify(token) is None


def test_a_tampered_or_foreign_token_is_rejected(clock: ManualClock) -> None:
    tokens = TokenIssuer(SECRET, clock=clock)
    token = tokens.issue(TRADER)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert tokens.verify(f"{header}.{payload}.{flipped}") is None
    assert tokens.verify(TokenIssuer("t" * 40, clock=clock).issue(TRADER)) is None
    assert tokens.verify("not.a.token") is None
    assert tokens.verify("") is None


def test_rotation_keeps_old_tokens_valid_and_signs_with_the_new_secret(clock: ManualClock) -> None:
    old = TokenIssuer(SECRET, clock=clock)
    rotated = TokenIssuer("n" * 40, previous_secrets=[SECRET], clock=clock)
    new_only = TokenIssuer("n" * 40, clock=clock)

    assert rotated.verify(old.issue(TRADER)) == TRADER
    assert new_only.verify(rotated.issue(TRADER)) == TRADER
    assert old.verify(rotated.issue(TRADER)) is None


def test_a_token_needs_a_key_bound_principal() -> None:
    with pytest.raises(ValueError, match="key-bound"):
        TokenIssuer(SECRET).issue(LOOPBACK_PRINCIPAL)


# --- authenticate ------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "testclient", "::ffff:127.0.0.1"])
def test_dev_loopback_without_credential_is_operator(keys: KeyStore, clock: ManualClock,
                                                     host: str) -> None:
    principal = _authenticator(keys, clock, "dev").authenticate(None, host)
    assert principal == LOOPBACK_PRINCIPAL and principal.role is Role.OPERATOR


@pytest.mark.parametrize(("header", "api_key"), [
    ("Bearer mcpt_AAAAAAAAAAAA_" + "b" * 43, None),
    ("Bearer garbage", None),
    ("Basic dXNlcjpwdw==", None),
    ("Bearer ", None),
    ("", None),
    (None, "mcpt_AAAAAAAAAAAA_" + "b" * 43),
    (None, ""),
])
def test_dev_loopback_with_a_bad_credential_is_rejected(keys: KeyStore, clock: ManualClock,
                                                        header: str | None,
                                                        api_key: str | None) -> None:
    assert _authenticator(keys, clock, "dev").authenticate(header, "127.0.0.1",
                                                           api_key=api_key) is None


def test_non_loopback_without_credential_is_rejected(keys: KeyStore, clock: ManualClock) -> None:
    auth = _authenticator(keys, clock, "dev")
    assert auth.authenticate(None, "192.168.1.20") is None
    assert auth.authenticate(None, None) is None
    assert auth.authenticate(None, "localhost.evil") is None


def test_production_loopback_without_credential_is_rejected(keys: KeyStore,
                                                           clock: ManualClock) -> None:
    assert _authenticator(keys, clock, "production").authenticate(None, "127.0.0.1") is None
    assert _authenticator(keys, clock, "production").authenticate(None, "testclient") is None


def test_mcp_gets_no_loopback_trust(keys: KeyStore, clock: ManualClock) -> None:
    auth = _authenticator(keys, clock, "dev")
    assert auth.authenticate(None, "127.0.0.1", loopback_trust=False) is None


def test_api_key_by_bearer_or_header_from_anywhere(keys: KeyStore, clock: ManualClock) -> None:
    record, plaintext = keys.create(Role.TRADER, "acct-1", "bot")
    auth = _authenticator(keys, clock, "production")
    expected = record.principal()
    assert auth.authenticate(f"Bearer {plaintext}", "203.0.113.9") == expected
    assert auth.authenticate(f"bearer  {plaintext} ", "203.0.113.9") == expected
    assert auth.authenticate(None, "203.0.113.9", api_key=plaintext) == expected
    assert auth.authenticate(f"Bearer {plaintext}", None, api_key=plaintext) == expected


@pytest.mark.parametrize("role", list(Role))
def test_a_key_must_name_its_account_or_say_all_accounts(keys: KeyStore, role: Role) -> None:
    with pytest.raises(ValueError, match=r"--account ID.*--all-accounts.*neither"):
        keys.create(role)
    with pytest.raises(ValueError, match="exactly one"):
        keys.create(role, "acct-1", all_accounts=True)
    assert keys.list() == []  # nothing half-created


def test_an_all_accounts_key_acts_on_every_account(keys: KeyStore, engine: Engine) -> None:
    record, plaintext = keys.create(Role.TRADER, all_accounts=True)
    principal = keys.verify(plaintext)
    assert principal is not None and principal.account_id is None
    assert record.account_id is None and not record.legacy
    with engine.connect() as conn:  # stored explicitly, told apart from a legacy NULL
        assert conn.execute(select(api_keys.c.account_id)).scalar_one() == keys_module.ALL_ACCOUNTS


def _legacy_key(keys: KeyStore, engine: Engine, role: Role) -> str:
    """A key as an older version stored it: no account at all."""
    record, plaintext = keys.create(role, "placeholder")
    with engine.begin() as conn:
        conn.execute(api_keys.update().where(api_keys.c.id == record.id).values(account_id=None))
    return plaintext


@pytest.mark.parametrize("role", [Role.VIEWER, Role.TRADER])
def test_a_legacy_viewer_or_trader_key_acts_on_the_default_account_only(
        engine: Engine, clock: ManualClock, role: Role) -> None:
    keys = KeyStore(engine, hasher=CHEAP, clock=clock, legacy_account="house")
    principal = keys.verify(_legacy_key(keys, engine, role))
    assert principal is not None and principal.account_id == "house"
    [listed] = keys.list()
    assert listed.legacy and listed.account_id == "house"


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_a_legacy_operator_or_admin_key_keeps_every_account(keys: KeyStore, engine: Engine,
                                                           role: Role) -> None:
    principal = keys.verify(_legacy_key(keys, engine, role))
    assert principal is not None and principal.account_id is None


def test_a_jwt_takes_its_account_scope_from_the_key(keys: KeyStore, engine: Engine,
                                                    clock: ManualClock) -> None:
    plaintext = _legacy_key(keys, engine, Role.TRADER)
    principal = keys.verify(plaintext)
    assert principal is not None
    tokens = TokenIssuer(SECRET, clock=clock)
    # a token minted with no account (as one issued before the rule would carry)
    token = tokens.issue(Principal(Role.TRADER, principal.key_id, None, principal.name))
    auth = Authenticator(keys, tokens, "production")
    via_token = auth.authenticate(f"Bearer {token}", "203.0.113.9")
    assert via_token is not None and via_token.account_id == "paper"


def test_two_credentials_that_disagree_are_rejected(keys: KeyStore, clock: ManualClock) -> None:
    _, first = keys.create(Role.VIEWER, all_accounts=True)
    _, second = keys.create(Role.ADMIN, all_accounts=True)
    auth = _authenticator(keys, clock, "dev")
    assert auth.authenticate(f"Bearer {first}", "127.0.0.1", api_key=second) is None


def test_a_jwt_authenticates_until_its_key_is_revoked(keys: KeyStore, clock: ManualClock) -> None:
    record, _ = keys.create(Role.TRADER, "acct-1", "bot")
    tokens = TokenIssuer(SECRET, clock=clock)
    auth = Authenticator(keys, tokens, "production")
    token = tokens.issue(record.principal())

    assert auth.authenticate(f"Bearer {token}", "203.0.113.9") == record.principal()
    keys.revoke(record.id)
    clock.advance(2 * NS)
    assert auth.authenticate(f"Bearer {token}", "203.0.113.9") is None


def test_a_jwt_for_an_unknown_key_is_rejected(keys: KeyStore, clock: ManualClock) -> None:
    tokens = TokenIssuer(SECRET, clock=clock)
    auth = Authenticator(keys, tokens, "dev")
    assert auth.authenticate(f"Bearer {tokens.issue(TRADER)}", "127.0.0.1") is None


# --- configuration and logs ------------------------------------------------------------------


@pytest.mark.parametrize(("secret", "reason"), [
    ("", "empty"), ("   ", "empty"), (None, "empty"),
    (DEV_DEFAULT_JWT_SECRET, "default"), ("x" * 31, "shorter than 32"),
    ("a" * 40, "too little entropy"), ("abcd" * 16, "too little entropy"),
    ("0123456789" * 4, "too little entropy"), ("é" * 20, "too little entropy"),
])
def test_production_refuses_a_weak_jwt_secret(secret: str | None, reason: str) -> None:
    with pytest.raises(InsecureSecretError, match=reason) as caught:
        check_jwt_secret("production", secret)
    assert "JWT_SECRET" in str(caught.value)
    if secret and secret.strip():
        assert secret not in str(caught.value)
    assert "secrets.token_urlsafe(48)" in str(caught.value)  # says how to make a good one


def test_low_entropy_estimates_fall_below_the_minimum_and_random_ones_clear_it() -> None:
    assert estimate_secret_bits("") == 0
    assert estimate_secret_bits("a" * 40) == 0
    assert estimate_secret_bits("abcdefgh" * 8) < MIN_JWT_SECRET_BITS  # repeats: compresses
    for _ in range(50):
        assert estimate_secret_bits(secrets.token_urlsafe(48)) > 2 * MIN_JWT_SECRET_BITS
        assert estimate_secret_bits(secrets.token_hex(32)) > MIN_JWT_SECRET_BITS


def test_production_accepts_a_strong_secret_and_dev_accepts_anything() -> None:
    check_jwt_secret("production", secrets.token_urlsafe(48))
    check_jwt_secret("dev", "a" * 40)
    check_jwt_secret("dev", DEV_DEFAULT_JWT_SECRET)
    check_jwt_secret("dev", "")


def test_redact_masks_keys_and_tokens_but_keeps_key_ids(clock: ManualClock) -> None:
    key = "mcpt_AbCdEfGhIjKl_" + "Zz9-_" * 9
    token = TokenIssuer(SECRET, clock=clock).issue(TRADER)
    text = f"auth failed for {key}; token={token} header='Authorization: Bearer hunter2' ok"

    masked = redact(text)
    assert "mcpt_AbCdEfGhIjKl_***" in masked
    assert "Zz9-_" not in masked and token not in masked and "hunter2" not in masked
    assert token.split(".")[2] not in masked
    assert masked.endswith(" ok")
    assert redact("mcpt_bad") == "mcpt_***"
    assert redact("nothing to hide") == "nothing to hide"


def test_redact_event_masks_string_values() -> None:
    event = {"event": "login mcpt_AbCdEfGhIjKl_secretsecret", "status": 401}
    assert redact_event(None, "info", event) == {"event": "login mcpt_AbCdEfGhIjKl_***",
                                                 "status": 401}


def test_build_authenticator_refuses_the_default_secret_in_production(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, profile="production",
                        jwt_secret=DEV_DEFAULT_JWT_SECRET)
    with pytest.raises(InsecureSecretError, match="default"):
        build_authenticator(settings)


def test_build_authenticator_reads_keys_from_the_configured_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, profile="production",
                        jwt_secret=secrets.token_urlsafe(48))
    upgrade(settings.resolved_database_url)
    writer = create_store_engine(settings.resolved_database_url)
    try:
        record, plaintext = KeyStore(writer, hasher=CHEAP).create(Role.VIEWER, all_accounts=True)
    finally:
        writer.dispose()
    auth = build_authenticator(settings)
    try:
        assert auth.profile == "production"
        assert auth.authenticate(f"Bearer {plaintext}", "203.0.113.9") == record.principal()
        assert auth.authenticate(None, "127.0.0.1") is None
    finally:
        auth.close()


def test_the_confirm_orders_policy_travels_with_the_key_and_its_tokens(
        keys: KeyStore, clock: ManualClock) -> None:
    record, plaintext = keys.create(Role.TRADER, "acct-1", "desk", confirm_orders=False)
    assert record.confirm_orders is False
    assert keys.get(record.id).confirm_orders is False
    principal = keys.verify(plaintext)
    assert principal is not None and principal.confirm_orders is False
    issuer = TokenIssuer("s3cret", clock=clock)
    assert issuer.verify(issuer.issue(principal)) == principal
    default = keys.verify(keys.create(Role.TRADER, "acct-1", "agent")[1])
    assert default is not None and default.confirm_orders is True


def test_redact_masks_a_providers_key_in_a_url() -> None:
    url = "GET https://www.alphavantage.co/query?function=GLOBAL_QUOTE&apikey=K3Y123&symbol=IBM"
    assert redact(url) == ("GET https://www.alphavantage.co/query?function=GLOBAL_QUOTE"
                           "&apikey=***&symbol=IBM")
    assert redact("api_key=abc def") == "api_key=*** def"
