"""Settings: the money and bps settings are parsed with the domain's number bounds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from mcp_trading.config import Settings


def test_cash_and_fees_within_bounds_are_taken_exactly() -> None:
    settings = Settings(default_cash="2500.50", commission_bps=2, slippage_bps="0.5")
    assert settings.default_cash == Decimal("2500.50")
    assert (settings.commission_bps, settings.slippage_bps) == (Decimal(2), Decimal("0.5"))


@pytest.mark.parametrize(("field", "raw", "hint"), [
    ("default_cash", "1e-999999999", "more than 9 decimal places"),
    ("default_cash", "1e400", "above the maximum 1000000000000000 for an amount of cash"),
    ("default_cash", "NaN", "finite"),
    ("default_cash", "-5", "must be >= 0"),
    ("commission_min", "1_000", "not a decimal number"),
    ("commission_bps", "20000", "above the maximum 10000 for basis points"),
    ("slippage_bps", "Infinity", "finite"),
])
def test_a_number_setting_outside_its_bounds_names_the_setting(field: str, raw: str,
                                                               hint: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(**{field: raw})  # type: ignore[arg-type]
    assert f"{field}: " in str(err.value)
    assert hint in str(err.value)


def test_history_defaults_to_its_own_sqlite_file_beside_the_journal(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)

    assert settings.resolved_history_url == f"sqlite:///{(tmp_path / 'history.db').resolve()}"
    assert settings.resolved_history_url != settings.resolved_database_url


@pytest.mark.parametrize(("database_url", "history_url", "resolved"), [
    ("memory://", None, "memory://"),
    ("postgresql://u@h/db", None, "postgresql://u@h/db"),
    ("postgresql://u@h/db", "sqlite:///x/history.db", "sqlite:///x/history.db"),
    ("memory://", "postgresql://u@h/hist", "postgresql://u@h/hist"),
])
def test_history_url_follows_the_journal_unless_set(database_url: str, history_url: str | None,
                                                    resolved: str) -> None:
    settings = Settings(database_url=database_url, history_url=history_url)

    assert settings.resolved_history_url == resolved
