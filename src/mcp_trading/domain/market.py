"""Quotes: the market data the venue matches against."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

__all__ = ["Quote"]

_TWO = Decimal(2)


class Quote(NamedTuple):
    """Top of book for one symbol; `ts` is the event time in nanoseconds since the epoch."""

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    last: Decimal | None
    ts: int

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / _TWO

    @property
    def mark(self) -> Decimal:
        """The price positions are valued at: last trade, else mid."""
        return self.last if self.last is not None else (self.bid + self.ask) / _TWO
