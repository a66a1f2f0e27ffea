"""Confirmation tokens: single use, bound to the credential and the exact arguments, 60 s."""

from __future__ import annotations

from mcp_trading.faces.mcp.confirm import ConfirmationTokens

ORDER = {"symbol": "AAPL", "qty": "1", "side": "buy", "type": "market", "limit_price": None}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_spent_once_for_the_same_arguments() -> None:
    tokens = ConfirmationTokens()
    token, ttl = tokens.issue("key-1", ORDER)
    assert ttl == 60.0
    # the same arguments in another order, nulls left out: the same order
    same = {"side": "buy", "qty": "1", "symbol": "AAPL", "type": "market"}
    assert tokens.spend(token, "key-1", same) is None
    assert tokens.spend(token, "key-1", same) == ("the confirmation token is unknown or was "
                                                  "already used")


def test_a_token_does_not_confirm_other_arguments_or_another_credential() -> None:
    tokens = ConfirmationTokens()
    token, _ = tokens.issue("key-1", ORDER)
    assert tokens.spend(token, "key-1", {**ORDER, "qty": "2"}) == (
        "the order arguments differ from the previewed ones")
    token, _ = tokens.issue("key-1", ORDER)
    assert tokens.spend(token, "key-2", ORDER) == (
        "the confirmation token was issued to another credential")


def test_a_token_expires_after_its_lifetime() -> None:
    clock = FakeClock()
    tokens = ConfirmationTokens(clock=clock)
    token, _ = tokens.issue("key-1", ORDER)
    clock.now += 59.9
    fresh, _ = tokens.issue("key-1", ORDER)
    assert tokens.spend(fresh, "key-1", ORDER) is None
    clock.now += 0.2
    assert tokens.spend(token, "key-1", ORDER) == ("the confirmation token has expired "
                                                   "(they live 60 s)")
