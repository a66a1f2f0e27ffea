"""`mcp-trading optimize SYMBOLS... --method M --start --end [--json] [--html FILE]`.

Offline, like `mcp-trading backtest`: it opens the configured history store (read only) and
the optimizer's runs table (the platform's database) itself, so it works while the platform
is stopped. The request goes through the same parser and code as `POST :8052/optimize`, so
it refuses the same input with the same message and stores the run the same way. Exit
codes: 0 done; 1 refused (the reason on stderr); 2 wrong usage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError

__all__ = ["optimize", "register"]

console = Console()
errors = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command()(optimize)


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _number(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--option {pair!r}: write it as name=value, e.g. --option "
                        "target_return=0.12 (values are JSON: numbers, lists, objects)", code=2)
        out[name.strip()] = _number(value)
    return out


def _table(answer: dict[str, Any]) -> Table:
    table = Table(title=f"{answer['method']} — run {answer['run_id']}")
    table.add_column("symbol")
    table.add_column("weight", justify="right")
    table.add_column("risk contribution", justify="right")
    for symbol, weight in answer["weights"].items():
        share = answer["risk_contributions"].get(symbol)
        table.add_row(symbol, f"{float(weight) * 100:.2f} %",
                      "" if share is None else f"{share * 100:.2f} %")
    return table


def _figure(value: float | None, pct: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.2f} %" if pct else f"{value:.3f}"


_OPTION_HELP = (
    "A method option name=value (repeatable); the value is JSON (numbers, lists, objects), "
    "else a string. GET :8052/methods lists each method's options. black_litterman's views: "
    "--option 'views=[{\"asset\": \"AAPL\", \"return\": 0.12, \"confidence\": 0.6}, "
    "{\"long\": \"MSFT\", \"short\": \"IBM\", \"return\": 0.03}]' (returns annual; "
    "without views the market-implied prior is used), its prior --option "
    "'market_caps={\"AAPL\": 420e9, ...}' and --option then=max_utility (a method that "
    "uses expected returns).")


def optimize(
    symbols: Annotated[list[str], typer.Argument(help="Symbols with stored daily history.")],
    *,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option(help="Last day, YYYY-MM-DD.")],
    method: Annotated[str, typer.Option(help="Method (GET :8052/methods).")] = "max_sharpe",
    expected_returns: Annotated[str, typer.Option(help="Expected-returns estimator.")] =
        "mean_historical",
    covariance: Annotated[str, typer.Option(help="Covariance estimator.")] = "sample",
    risk_free_rate: Annotated[float, typer.Option(help="Annual, a fraction (0.04 = 4 %).")] =
        0.0,
    option: Annotated[list[str] | None, typer.Option(
        "--option", help=_OPTION_HELP)] = None,
    cash_buffer: Annotated[float, typer.Option(help="Weights sum to 1 - cash buffer.")] = 0.0,
    max_weight: Annotated[float | None, typer.Option(help="Upper bound of every weight.")] =
        None,
    benchmark: Annotated[str | None, typer.Option(help="capm's market symbol.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    html: Annotated[Path | None, typer.Option("--html", show_default=False,
                                              help="Also write the HTML report here.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")] = None,
) -> None:
    """Optimise a portfolio on stored history, store the run and print its weights."""
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    constraints: dict[str, Any] = {"cash_buffer": cash_buffer}
    if max_weight is not None:
        constraints["bounds"] = [0.0, max_weight]
    raw = {"symbols": [s for item in symbols for s in item.split(",") if s], "start": start,
           "end": end, "method": method, "expected_returns": expected_returns,
           "covariance": covariance, "risk_free_rate": risk_free_rate,
           "options": _options(option or []), "constraints": constraints,
           **({"benchmark": benchmark} if benchmark else {})}
    answer = _run(settings, raw, html)
    if as_json:
        print(json.dumps(answer, indent=2))
        return
    console.print(_table(answer))
    console.print(f"expected return {_figure(answer['expected_return'])}, volatility "
                  f"{_figure(answer['volatility'])}, Sharpe {_figure(answer['sharpe'], False)} "
                  f"(annual, risk-free {_figure(answer['risk_free_rate'])}); estimators "
                  f"{answer['estimators']['expected_returns']} / "
                  f"{answer['estimators']['covariance']}; solver "
                  f"{answer['diagnostics']['solver']} ({answer['diagnostics']['status']})",
                  highlight=False)
    if html is not None:
        console.print(f"report: {html}", highlight=False)


def _run(settings: Settings, raw: dict[str, Any], html: Path | None) -> dict[str, Any]:
    """Optimise and store the run as POST /optimize does; write the report if asked."""
    from mcp_trading.adapters.history.factory import open_history_store
    from mcp_trading.platform.history import PlatformHistory
    from mcp_trading.services.optimizer.charts import run_report
    from mcp_trading.services.optimizer.inputs import OptimizeBody, parse_body
    from mcp_trading.services.optimizer.runs import open_optimizer_store
    from mcp_trading.services.optimizer.service import OptimizerService

    try:
        history = open_history_store(settings.resolved_history_url)
        store = open_optimizer_store(settings.resolved_database_url, migrate=True)
    except TradingError as exc:
        raise _fail(f"cannot open the stores: {exc.message}") from None
    svc = OptimizerService(history=PlatformHistory(settings.resolved_history_url,
                                                   store=history), store=lambda: store)
    try:
        answer = svc.optimize_now(parse_body(OptimizeBody, raw))
        if html is not None:
            html.write_text(run_report(store.get_run(answer["run_id"])), encoding="utf-8")
    except TradingError as exc:
        raise _fail(exc.message) from None
    finally:
        history.close()
        store.close()
    return answer
