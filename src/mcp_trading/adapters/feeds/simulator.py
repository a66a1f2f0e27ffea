"""The SIMULATOR market-data provider: a deterministic, seeded random walk. Not market data.

`SimulatedFeed` quotes a universe of US equities and ETFs. The starting prices in `PROFILES`
are seed levels of a simulation, chosen to be of the order of 2025 prices so that screens look
plausible; they are not, and never were, market data. Symbols outside `PROFILES` get a generic
profile (seed level derived from the symbol's name, 30 % volatility).

The model, per symbol and step:
- the mid follows a geometric random walk, `σ_step = σ_annual · sqrt(interval / trading year)`
  with a trading year of 252 × 6.5 h (so intraday moves look like intraday moves), and the
  −σ²/2 drift that makes the price a martingale;
- the spread is a whole number of $0.01 ticks, about price × σ_annual / 100 in cents (1 tick
  for SPY or KO, 2 for TSLA, 5 for NFLX), widened on large moves (|z| > 1.33);
- sizes are round lots: multiples of 100 shares from a skewed table, larger for ETFs;
- `last` is a trade price on the tick grid inside [bid, ask].
Prices are integer cents internally and become `Decimal`s (cached) only when a quote is built;
they are always on the $0.01 tick and at least $0.01.

Determinism: each feed draws from its own `random.Random(seed)`, never the global RNG. The same
seed, symbols and interval yield the same quotes (on the same Python build), however the
calls to `next_quotes` split the time, as long as no call hits the catch-up cap.

Catch-up cap: `next_quotes(ts)` emits at most `max_catchup_steps` steps (default 40, i.e. 10 s
at 250 ms; 800 quotes for the default 20 symbols). After a longer pause it skips the older
steps, moving each price by one draw scaled to the skipped time, and emits the latest steps.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

from mcp_trading.adapters.feeds.universe import DEFAULT_SYMBOLS
from mcp_trading.domain.market import Quote

__all__ = ["DEFAULT_MAX_CATCHUP_STEPS", "PROFILES", "SimulatedFeed", "SymbolProfile"]

DEFAULT_MAX_CATCHUP_STEPS = 40
_TRADING_YEAR_S = 252 * 6.5 * 3600
_NS_PER_MS = 1_000_000
_DECIMAL_CACHE_LIMIT = 200_000


class SymbolProfile(NamedTuple):
    """Seed level (a simulation parameter, not a market price), annual volatility, lot scale."""

    seed_price: Decimal
    annual_vol: float
    lot_scale: int  # multiplies the round-lot size table: deeper books for index ETFs


PROFILES: dict[str, SymbolProfile] = {
    "AAPL": SymbolProfile(Decimal("230.00"), 0.25, 3),
    "MSFT": SymbolProfile(Decimal("420.00"), 0.22, 2),
    "SPY": SymbolProfile(Decimal("600.00"), 0.15, 5),
    "QQQ": SymbolProfile(Decimal("520.00"), 0.20, 4),
    "AMZN": SymbolProfile(Decimal("220.00"), 0.30, 2),
    "NVDA": SymbolProfile(Decimal("180.00"), 0.50, 4),
    "GOOGL": SymbolProfile(Decimal("200.00"), 0.28, 2),
    "META": SymbolProfile(Decimal("700.00"), 0.35, 1),
    "TSLA": SymbolProfile(Decimal("350.00"), 0.60, 2),
    "JPM": SymbolProfile(Decimal("290.00"), 0.22, 1),
    "V": SymbolProfile(Decimal("340.00"), 0.20, 1),
    "XOM": SymbolProfile(Decimal("115.00"), 0.25, 2),
    "JNJ": SymbolProfile(Decimal("170.00"), 0.16, 1),
    "PG": SymbolProfile(Decimal("160.00"), 0.16, 1),
    "KO": SymbolProfile(Decimal("70.00"), 0.15, 3),
    "IWM": SymbolProfile(Decimal("230.00"), 0.22, 4),
    "DIA": SymbolProfile(Decimal("460.00"), 0.15, 1),
    "BAC": SymbolProfile(Decimal("50.00"), 0.28, 6),
    "WMT": SymbolProfile(Decimal("100.00"), 0.18, 2),
    "NFLX": SymbolProfile(Decimal("1200.00"), 0.38, 1),
}

# Round lots (×100 shares) indexed by 4 random bits: mostly small, sometimes deep.
_LOTS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 8, 10, 15)


def _generic_profile(symbol: str) -> SymbolProfile:
    # crc32, unlike hash(), is the same in every process, so the seed level is reproducible.
    return SymbolProfile(Decimal(20 + zlib.crc32(symbol.encode()) % 280), 0.30, 1)


class _Walk:
    """One symbol's state: the mid as a float price in cents and the per-step volatility."""

    __slots__ = ("drift", "log_mid", "lot_scale", "sigma", "symbol", "vol_cents_factor")

    def __init__(self, symbol: str, profile: SymbolProfile, interval_s: float) -> None:
        self.symbol = symbol
        self.log_mid = math.log(float(profile.seed_price) * 100.0)
        self.sigma = profile.annual_vol * math.sqrt(interval_s / _TRADING_YEAR_S)
        self.drift = -0.5 * self.sigma * self.sigma
        # base spread in ticks = price in dollars × σ_annual / 100 = mid in cents × σ / 10⁴
        self.vol_cents_factor = profile.annual_vol * 1e-4
        self.lot_scale = profile.lot_scale


class SimulatedFeed:
    """Seeded random-walk quotes for a universe of symbols (provider name "simulator")."""

    name = "simulator"
    calendar = "always_open"

    def __init__(
        self,
        symbols: Iterable[str] | None = None,
        *,
        seed: int = 7,
        interval_ms: int = 250,
        start_ns: int | None = None,
        max_catchup_steps: int = DEFAULT_MAX_CATCHUP_STEPS,
    ) -> None:
        """`start_ns` is the time of the first step; None: the first `next_quotes` time (or 0
        for `quotes`)."""
        names = list(DEFAULT_SYMBOLS if symbols is None else symbols)
        if not names or len(set(names)) != len(names):
            raise ValueError(f"symbols must be non-empty and distinct, got {names!r}")
        if interval_ms <= 0:
            raise ValueError(f"interval_ms was {interval_ms}; must be > 0")
        if max_catchup_steps <= 0:
            raise ValueError(f"max_catchup_steps was {max_catchup_steps}; must be > 0")
        self._rng = random.Random(seed)
        self._interval_ns = interval_ms * _NS_PER_MS
        interval_s = interval_ms / 1000.0
        self._walks = [_Walk(s, PROFILES.get(s) or _generic_profile(s), interval_s) for s in names]
        self._max_catchup = max_catchup_steps
        # Time of the last step emitted; None until anchored by start_ns or a first call.
        self._last_ts = None if start_ns is None else start_ns - self._interval_ns
        self._prices: dict[int, Decimal] = {}
        top = max(_LOTS) * max(w.lot_scale for w in self._walks)
        self._sizes = {n: Decimal(n * 100) for n in range(1, top + 1)}

    def symbols(self) -> list[str]:
        return [w.symbol for w in self._walks]

    @property
    def interval_ns(self) -> int:
        return self._interval_ns

    def next_quotes(self, ts: int) -> list[Quote]:
        """All quotes with times in (last emitted, ts], step by step, at most the catch-up cap."""
        step = self._interval_ns
        last = self._last_ts
        if last is None:
            last = self._last_ts = ts - step
        due = (ts - last) // step
        if due <= 0:
            return []
        if due > self._max_catchup:
            skipped = due - self._max_catchup
            self._jump(skipped)
            self._last_ts = last + skipped * step
            due = self._max_catchup
        out: list[Quote] = []
        for _ in range(due):
            self._step(out)
        return out

    def quotes(self, n: int) -> Iterator[list[Quote]]:
        """`n` steps, each a list with one quote per symbol, at successive interval times."""
        if self._last_ts is None:
            self._last_ts = -self._interval_ns
        for _ in range(n):
            out: list[Quote] = []
            self._step(out)
            yield out

    def _jump(self, steps: int) -> None:
        """Move every mid as `steps` steps would, in one draw each."""
        gauss = self._rng.gauss
        for w in self._walks:
            w.log_mid += w.drift * steps + w.sigma * math.sqrt(steps) * gauss(0.0, 1.0)

    def _step(self, out: list[Quote]) -> None:
        assert self._last_ts is not None
        ts = self._last_ts = self._last_ts + self._interval_ns
        rng = self._rng
        gauss = rng.gauss
        bits = rng.getrandbits
        prices = self._prices
        if len(prices) > _DECIMAL_CACHE_LIMIT:  # bound memory on a very long random walk
            prices.clear()
        sizes = self._sizes
        exp = math.exp
        for w in self._walks:
            z = gauss(0.0, 1.0)
            log_mid = w.log_mid = w.log_mid + w.drift + w.sigma * z
            mid = exp(log_mid)
            base = int(mid * w.vol_cents_factor + 0.5) or 1
            spread = base + int(abs(z) * base * 0.75)
            bid = max(int(mid - spread * 0.5 + 0.5), 1)
            ask = bid + spread
            r = bits(32)
            last = bid + (r >> 8) % (spread + 1)
            scale = w.lot_scale
            b = prices.get(bid) or prices.setdefault(bid, Decimal(bid).scaleb(-2))
            a = prices.get(ask) or prices.setdefault(ask, Decimal(ask).scaleb(-2))
            t = prices.get(last) or prices.setdefault(last, Decimal(last).scaleb(-2))
            out.append(
                Quote(
                    w.symbol,
                    b,
                    a,
                    sizes[_LOTS[r & 15] * scale],
                    sizes[_LOTS[(r >> 4) & 15] * scale],
                    t,
                    ts,
                )
            )
