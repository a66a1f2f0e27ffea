"""What a backtest produced: `BacktestResult`, its summary and its JSON form.

Everything a later reader needs is in it, so a stored result never has to be recomputed:
the resolved spec (models and limits fixed), the data range per symbol, the strategy's
source hash and the platform version, the fill rules in words, every order and fill the
kernel journaled, the round trips (analytics.round_trips), the daily equity curve and the
metrics (analytics), and what went wrong (`warnings`, `fault` when the strategy was
stopped). `to_json`/`from_json` round-trip it exactly (decimals as text, times as ns).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from mcp_trading.analytics.equity import EquityCurve, day_text
from mcp_trading.analytics.metrics import Metrics
from mcp_trading.analytics.run import RunReport
from mcp_trading.analytics.trades import Fill, RoundTrip
from mcp_trading.backtest.spec import BacktestSpec

__all__ = ["BacktestResult", "OrderRecord", "SymbolRange"]

FORMAT = 1  # of the JSON form; a reader refuses a newer one


@dataclass(frozen=True, slots=True)
class SymbolRange:
    """The bars of one symbol the run used."""

    symbol: str
    source: str
    first: int  # ts of the first bar (ns)
    last: int
    bars: int

    def as_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "source": self.source, "first": self.first,
                "last": self.last, "first_date": day_text(self.first),
                "last_date": day_text(self.last), "bars": self.bars}


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order of the run as the kernel left it (status final at the end of the run)."""

    id: str
    symbol: str
    side: str
    type: str
    qty: Decimal
    time_in_force: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: str
    submitted_at: int  # ns, the simulated clock
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    closed_at: int | None  # filled / canceled / expired / rejected at
    reject_code: str | None = None
    reject_reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> OrderRecord:
        dec = {"qty", "limit_price", "stop_price", "filled_qty", "filled_avg_price"}
        values: dict[str, Any] = {k: (Decimal(v) if k in dec and v is not None else v)
                                  for k, v in raw.items()}
        return cls(**values)


def _fill_dict(f: Fill) -> dict[str, object]:
    return {"symbol": f.symbol, "side": f.side, "qty": str(f.qty), "price": str(f.price),
            "ts": f.ts, "commission": str(f.commission), "order_id": f.order_id}


def _fill(raw: Mapping[str, Any]) -> Fill:
    return Fill(raw["symbol"], raw["side"], Decimal(raw["qty"]), Decimal(raw["price"]),
                int(raw["ts"]), Decimal(raw["commission"]), raw["order_id"])


def _trade_dict(t: RoundTrip) -> dict[str, object]:
    return {"symbol": t.symbol, "side": t.side, "qty": str(t.qty), "entry_time": t.entry_time,
            "entry_price": str(t.entry_price), "exit_time": t.exit_time,
            "exit_price": str(t.exit_price), "pnl": str(t.pnl),
            "commission": str(t.commission), "return": str(t.return_)}


def _trade(raw: Mapping[str, Any]) -> RoundTrip:
    return RoundTrip(raw["symbol"], raw["side"], Decimal(raw["qty"]), int(raw["entry_time"]),
                     Decimal(raw["entry_price"]), int(raw["exit_time"]),
                     Decimal(raw["exit_price"]), Decimal(raw["pnl"]),
                     Decimal(raw["commission"]), Decimal(raw["return"]))


_SERIES = ("cash", "gross_exposure", "net_exposure", "traded")


def _curve_dict(c: EquityCurve) -> dict[str, object]:
    out: dict[str, object] = {"ts": c.ts.tolist(), "equity": c.equity.tolist(),
                              "initial": c.initial}
    for name in _SERIES:
        series = getattr(c, name)
        out[name] = None if series is None else series.tolist()
    return out


def _curve(raw: Mapping[str, Any]) -> EquityCurve:
    def arr(name: str) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        value = raw.get(name)
        return None if value is None else np.asarray(value, dtype=np.float64)

    return EquityCurve(ts=np.asarray(raw["ts"], dtype=np.int64),
                       equity=np.asarray(raw["equity"], dtype=np.float64),
                       initial=raw.get("initial"), cash=arr("cash"),
                       gross_exposure=arr("gross_exposure"), net_exposure=arr("net_exposure"),
                       traded=arr("traded"))


def _metrics_dict(m: Metrics) -> dict[str, object]:
    """Every field at full precision (as_dict rounds for display), so a stored result reads
    back equal; the metrics are never NaN or infinite (analytics.metrics)."""
    out = asdict(m)
    out["notes"] = list(m.notes)
    return out


def _metrics(raw: Mapping[str, Any]) -> Metrics:
    names = Metrics.__dataclass_fields__
    values = {k: v for k, v in raw.items() if k in names}
    values["notes"] = tuple(values.get("notes", ()))
    return Metrics(**values)


@dataclass(frozen=True)
class BacktestResult:
    """One finished (or stopped) backtest; see the module docstring."""

    id: str
    spec: BacktestSpec
    created_ns: int
    platform_version: str
    strategy_source_hash: str
    data_range: tuple[SymbolRange, ...]
    orders: tuple[OrderRecord, ...]
    fills: tuple[Fill, ...]
    trades: tuple[RoundTrip, ...]
    equity: EquityCurve
    metrics: Metrics
    warnings: tuple[str, ...] = ()
    fault: Mapping[str, str] | None = None  # the strategy was stopped: kind, callback, ...
    fill_rules: str = ""
    logs: tuple[str, ...] = ()  # the strategy's ctx.log lines (bounded)
    bars: int = 0  # bars delivered to the strategy
    elapsed_s: float = 0.0
    status: str = "completed"  # completed | stopped (fault) | canceled (should_stop)
    extra: Mapping[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """The short form lists and the POST answer show: identity, range and key metrics."""
        m = self.metrics
        first = min((r.first for r in self.data_range), default=None)
        last = max((r.last for r in self.data_range), default=None)
        return {"id": self.id, "status": self.status, "strategy": self.spec.strategy,
                "symbols": list(self.spec.symbols), "timeframe": self.spec.timeframe,
                "start": self.spec.start.isoformat(), "end": self.spec.end.isoformat(),
                "params": dict(self.spec.as_dict()["params"]), "cash": str(self.spec.cash),
                "created_ns": self.created_ns,
                "data_first": None if first is None else day_text(first),
                "data_last": None if last is None else day_text(last),
                "bars": self.bars, "orders": len(self.orders), "fills": len(self.fills),
                "trades": len(self.trades),
                "final_equity": float(self.equity.equity[-1]) if len(self.equity) else None,
                "total_return": m.total_return, "cagr": m.cagr, "sharpe": m.sharpe,
                "max_drawdown": m.max_drawdown, "win_rate": m.win_rate,
                "warnings": len(self.warnings), "fault": dict(self.fault) if self.fault else None,
                "elapsed_s": round(self.elapsed_s, 3)}

    def report(self) -> RunReport:
        """The analytics report input (HTML report, comparison)."""
        params = self.spec.as_dict()["params"]
        first = min((r.first for r in self.data_range), default=None)
        last = max((r.last for r in self.data_range), default=None)
        title = f"{self.spec.strategy} {','.join(self.spec.symbols)} " \
                f"{self.spec.start.isoformat()}..{self.spec.end.isoformat()}"
        return RunReport(title=title, curve=self.equity, metrics=self.metrics,
                         trades=self.trades, strategy=self.spec.strategy, params=params,
                         symbols=self.spec.symbols,
                         data_range=None if first is None or last is None
                         else (day_text(first), day_text(last)),
                         source_hash=self.strategy_source_hash,
                         platform_version=self.platform_version, run_id=self.id,
                         fill_rules=self.fill_rules)

    def as_dict(self) -> dict[str, object]:
        """The full JSON form."""
        return {"format": FORMAT, "id": self.id, "spec": self.spec.as_dict(),
                "created_ns": self.created_ns, "platform_version": self.platform_version,
                "strategy_source_hash": self.strategy_source_hash,
                "data_range": [r.as_dict() for r in self.data_range],
                "orders": [o.as_dict() for o in self.orders],
                "fills": [_fill_dict(f) for f in self.fills],
                "trades": [_trade_dict(t) for t in self.trades],
                "equity": _curve_dict(self.equity), "metrics": _metrics_dict(self.metrics),
                "warnings": list(self.warnings),
                "fault": dict(self.fault) if self.fault else None,
                "fill_rules": self.fill_rules, "logs": list(self.logs), "bars": self.bars,
                "elapsed_s": self.elapsed_s, "status": self.status, "extra": dict(self.extra)}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BacktestResult:
        if int(raw.get("format", 0)) > FORMAT:
            raise ValueError(f"backtest result format {raw['format']} is newer than this "
                             f"version reads ({FORMAT}); upgrade mcp-trading")
        ranges = tuple(SymbolRange(r["symbol"], r["source"], int(r["first"]), int(r["last"]),
                                   int(r["bars"])) for r in raw["data_range"])
        return cls(id=raw["id"], spec=BacktestSpec.from_dict(raw["spec"]),
                   created_ns=int(raw["created_ns"]), platform_version=raw["platform_version"],
                   strategy_source_hash=raw["strategy_source_hash"], data_range=ranges,
                   orders=tuple(OrderRecord.from_dict(o) for o in raw["orders"]),
                   fills=tuple(_fill(f) for f in raw["fills"]),
                   trades=tuple(_trade(t) for t in raw["trades"]),
                   equity=_curve(raw["equity"]), metrics=_metrics(raw["metrics"]),
                   warnings=tuple(raw.get("warnings", ())), fault=raw.get("fault"),
                   fill_rules=raw.get("fill_rules", ""), logs=tuple(raw.get("logs", ())),
                   bars=int(raw.get("bars", 0)), elapsed_s=float(raw.get("elapsed_s", 0.0)),
                   status=raw.get("status", "completed"), extra=raw.get("extra") or {})

    @classmethod
    def from_json(cls, text: str | bytes) -> BacktestResult:
        return cls.from_dict(json.loads(text))

