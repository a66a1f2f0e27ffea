"""The default instrument universe and instrument files that override or extend it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mcp_trading.adapters.feeds import InstrumentFileError, default_instruments, load_instruments


def test_defaults_are_tradable_usd_with_cent_ticks() -> None:
    instruments = default_instruments()
    assert len(instruments) == 20
    aapl = instruments["AAPL"]
    assert (aapl.tick_size, aapl.lot_size, aapl.min_qty, aapl.max_qty) == (
        Decimal("0.01"),
        Decimal(1),
        Decimal(1),
        Decimal(1_000_000),
    )
    assert aapl.currency == "USD" and aapl.tradable and aapl.name == "Apple Inc."


def test_toml_overrides_one_field_and_adds_a_symbol(tmp_path: Path) -> None:
    path = tmp_path / "inst.toml"
    path.write_text(
        "[instruments.AAPL]\nmax_qty = 5000\ntradable = false\n"
        '[instruments."BRK.B"]\nname = "Berkshire B"\ntick_size = 0.01\nlot_size = "10"\n'
        "min_qty = 10\n"
    )
    got = load_instruments(path)
    assert got["AAPL"].max_qty == Decimal(5000) and not got["AAPL"].tradable
    assert got["AAPL"].tick_size == Decimal("0.01")  # untouched fields keep the default
    assert got["BRK.B"].tick_size == Decimal("0.01") and got["BRK.B"].lot_size == Decimal(10)
    assert len(got) == 21


def test_json_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "inst.json"
    path.write_text('{"instruments": {"SPY": {"tick_size": 0.05}}}')
    assert load_instruments(path, base={})["SPY"].tick_size == Decimal("0.05")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[instruments.AAPL]\ntick_size = 0\n", r"instruments\.AAPL\.tick_size: must be > 0"),
        ('[instruments.AAPL]\nmax_qty = "lots"\n', r"instruments\.AAPL\.max_qty: 'lots'"),
        ('[instruments.AAPL]\ncolour = "red"\n', r"instruments\.AAPL\.colour: unknown field"),
        ("[instruments.AAPL]\ntradable = 1\n", r"instruments\.AAPL\.tradable: must be true"),
        ('[instruments.AAPL]\ncurrency = "usd"\n', r"instruments\.AAPL\.currency"),
        ("[instruments.AAPL]\nmin_qty = 10\nmax_qty = 5\n", r"instruments\.AAPL\.min_qty"),
        ("[instruments.AAPL]\nlot_size = 100\n", r"instruments\.AAPL\.min_qty: 1 is not a mult"),
        ("[instruments.aapl]\n", r"instruments\.aapl: symbol must be"),
        ("instruments = 3\n", r"instruments: expected a table"),
        ("[instruments\n", r"not valid TOML"),
    ],
)
def test_bad_files_name_the_bad_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "inst.toml"
    path.write_text(body)
    with pytest.raises(InstrumentFileError, match=message):
        load_instruments(path)


def test_unknown_extension_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError, match=r"\.toml or \.json"):
        (tmp_path / "x.yaml").write_text("a: 1")
        load_instruments(tmp_path / "x.yaml")
    with pytest.raises(InstrumentFileError, match="cannot read"):
        load_instruments(tmp_path / "missing.toml")
