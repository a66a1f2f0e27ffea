"""The default tradable universe, and instrument files that override or extend it.

An instrument file is TOML (`.toml`) or JSON (`.json`) with one table per symbol; every field
is optional and replaces the default (or the existing instrument's value)::

    [instruments.AAPL]
    max_qty = 50000

    [instruments."BRK.B"]
    name = "Berkshire Hathaway B"
    tick_size = "0.01"      # numbers may be strings, integers or decimals; never binary floats
    lot_size = 1
    min_qty = 1
    currency = "USD"
    tradable = true

Errors are `InstrumentFileError` and name the file and the field: ``instruments.AAPL.max_qty``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.instruments import Instrument, is_multiple
from mcp_trading.domain.numbers import PRICE, QUANTITY, Bounds, parse_decimal

__all__ = [
    "DEFAULT_SYMBOLS",
    "InstrumentFileError",
    "default_instruments",
    "load_instruments",
]

_NAMES = {
    "AAPL": "Apple Inc.",
    "MSFT": "Microsoft Corp.",
    "SPY": "SPDR S&P 500 ETF Trust",
    "QQQ": "Invesco QQQ Trust",
    "AMZN": "Amazon.com Inc.",
    "NVDA": "NVIDIA Corp.",
    "GOOGL": "Alphabet Inc. Class A",
    "META": "Meta Platforms Inc.",
    "TSLA": "Tesla Inc.",
    "JPM": "JPMorgan Chase & Co.",
    "V": "Visa Inc.",
    "XOM": "Exxon Mobil Corp.",
    "JNJ": "Johnson & Johnson",
    "PG": "Procter & Gamble Co.",
    "KO": "Coca-Cola Co.",
    "IWM": "iShares Russell 2000 ETF",
    "DIA": "SPDR Dow Jones Industrial Average ETF",
    "BAC": "Bank of America Corp.",
    "WMT": "Walmart Inc.",
    "NFLX": "Netflix Inc.",
}

DEFAULT_SYMBOLS: tuple[str, ...] = tuple(_NAMES)

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-/]{0,15}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DECIMAL_FIELDS = ("tick_size", "lot_size", "min_qty", "max_qty")
_FIELDS = (*_DECIMAL_FIELDS, "currency", "tradable", "name")


class InstrumentFileError(TradingError, ValueError):
    """An instrument file cannot be read or holds an invalid field."""


def default_instruments() -> dict[str, Instrument]:
    """The default universe: US equities and ETFs, tick 0.01, lot 1, quantities 1..1,000,000."""
    return {sym: Instrument(symbol=sym, name=name) for sym, name in _NAMES.items()}


def load_instruments(path: str | Path, base: Mapping[str, Instrument] | None = None) -> dict[str, Instrument]:
    """`base` (default: the default universe) with the file's instruments overriding or added."""
    path = Path(path)
    doc = _read(path)
    result = dict(default_instruments() if base is None else base)
    table = doc.get("instruments")
    if not isinstance(table, dict):
        raise InstrumentFileError(f"{path}: instruments: expected a table of symbols")
    for symbol, fields in table.items():
        where = f"{path}: instruments.{symbol}"
        if not isinstance(symbol, str) or not _SYMBOL.match(symbol):
            raise InstrumentFileError(
                f"{where}: symbol must be 1-16 upper-case letters, digits, '.', '-' or '/'"
            )
        if not isinstance(fields, dict):
            raise InstrumentFileError(f"{where}: expected a table of fields")
        unknown = sorted(set(fields) - set(_FIELDS))
        if unknown:
            raise InstrumentFileError(f"{where}.{unknown[0]}: unknown field; allowed: {', '.join(_FIELDS)}")
        current = result.get(symbol) or Instrument(symbol=symbol)
        result[symbol] = _validated(where, replace(current, **_parse(where, fields)))
    return result


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstrumentFileError(f"{path}: cannot read instrument file: {exc}") from exc
    try:
        if path.suffix == ".toml":
            doc: object = tomllib.loads(text, parse_float=Decimal)
        elif path.suffix == ".json":
            doc = json.loads(text, parse_float=Decimal)
        else:
            raise InstrumentFileError(f"{path}: instrument files must end in .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InstrumentFileError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    if not isinstance(doc, dict):
        raise InstrumentFileError(f"{path}: expected a table at the top level")
    return doc


def _parse(where: str, fields: Mapping[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _DECIMAL_FIELDS:
            out[key] = _decimal(f"{where}.{key}", value, PRICE if key == "tick_size" else QUANTITY)
        elif key == "tradable":
            if not isinstance(value, bool):
                raise InstrumentFileError(f"{where}.tradable: must be true or false, got {value!r}")
            out[key] = value
        elif not isinstance(value, str):
            raise InstrumentFileError(f"{where}.{key}: must be a string, got {value!r}")
        else:
            out[key] = value
    return out


def _decimal(where: str, value: object, bounds: Bounds) -> Decimal:
    """A tick, lot or quantity bound, within the bounds of the prices and quantities it governs."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InstrumentFileError(f"{where}: must be a number or numeric string, got {value!r}")
    return parse_decimal(where, value, bounds, error=_file_error)


def _file_error(where: str, message: str) -> InstrumentFileError:
    return InstrumentFileError(f"{where}: {message}")


def _validated(where: str, inst: Instrument) -> Instrument:
    if not _CURRENCY.match(inst.currency):
        raise InstrumentFileError(
            f"{where}.currency: must be a 3-letter upper-case code, got {inst.currency!r}"
        )
    if inst.min_qty > inst.max_qty:
        raise InstrumentFileError(f"{where}.min_qty: {inst.min_qty} is above max_qty {inst.max_qty}")
    for key in ("min_qty", "max_qty"):
        qty: Decimal = getattr(inst, key)
        if not is_multiple(qty, inst.lot_size):
            raise InstrumentFileError(f"{where}.{key}: {qty} is not a multiple of lot_size {inst.lot_size}")
    return inst
