"""Order requests (validation naming the bad field) and the lookup-table state machine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.errors import IllegalTransitionError, InvalidOrderError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.orders import (
    TERMINAL,
    TRANSITIONS,
    WORKING,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    Trigger,
    next_status,
)

S, T = OrderStatus, Trigger


def parse(**overrides: object) -> OrderRequest:
    raw: dict[str, object] = {"symbol": "AAPL", "qty": 10, "side": "buy", "type": "market",
                              "time_in_force": "day"}
    raw.update(overrides)
    return OrderRequest.parse(**{k: v for k, v in raw.items() if v is not _DROP})


_DROP = object()


# ---- parsing -------------------------------------------------------------------------------
def test_parse_accepts_alpaca_field_names_and_loose_numbers() -> None:
    req = OrderRequest.parse(symbol=" aapl ", qty="2.5", side="sell", type="limit",
                             time_in_force="gtc", limit_price=101.25, client_order_id="abc-1")
    assert req.symbol == "AAPL"
    assert req.qty == Decimal("2.5")
    assert req.side is OrderSide.SELL
    assert req.type is OrderType.LIMIT
    assert req.time_in_force is TimeInForce.GTC
    assert req.limit_price == Decimal("101.25")
    assert req.client_order_id == "abc-1"


def test_parse_defaults_to_a_day_market_order() -> None:
    req = OrderRequest.parse(symbol="AAPL", qty=1, side="buy")
    assert (req.type, req.time_in_force) == (OrderType.MARKET, TimeInForce.DAY)
    assert req.extended_hours is False
    assert req.client_order_id is None


@pytest.mark.parametrize(
    ("overrides", "field", "hint"),
    [
        ({"symbol": _DROP}, "symbol", "required"),
        ({"symbol": "  "}, "symbol", "non-empty"),
        ({"symbol": 7}, "symbol", "string"),
        ({"qty": _DROP}, "qty", "required"),
        ({"qty": 0}, "qty", "> 0"),
        ({"qty": -5}, "qty", "> 0"),
        ({"qty": "ten"}, "qty", "'ten'"),
        ({"qty": "NaN"}, "qty", "finite"),
        ({"qty": True}, "qty", "bool"),
        ({"qty": [1]}, "qty", "list"),
        ({"side": _DROP}, "side", "buy, sell"),
        ({"side": "long"}, "side", "'long' is not allowed; use one of: buy, sell"),
        ({"type": "iceberg"}, "type", "market, limit, stop, stop_limit, trailing_stop"),
        ({"time_in_force": "gtd"}, "time_in_force", "day, gtc, ioc, fok"),
        ({"type": "limit"}, "limit_price", "required for limit orders"),
        ({"type": "limit", "limit_price": 0}, "limit_price", "> 0"),
        ({"type": "limit", "limit_price": "abc"}, "limit_price", "decimal number"),
        ({"limit_price": 100}, "limit_price", "omitted for market orders"),
        ({"type": "stop"}, "stop_price", "required for stop orders"),
        ({"type": "stop", "stop_price": -1}, "stop_price", "> 0"),
        ({"type": "stop_limit", "stop_price": 100}, "limit_price", "required for stop_limit"),
        ({"type": "stop_limit", "limit_price": 100}, "stop_price", "required for stop_limit"),
        ({"stop_price": 100}, "stop_price", "omitted for market orders"),
        ({"type": "trailing_stop"}, "trail_price", "exactly one of trail_price or trail_percent"),
        ({"type": "trailing_stop", "trail_price": 1, "trail_percent": 1}, "trail_price",
         "exactly one"),
        ({"type": "trailing_stop", "trail_price": 0}, "trail_price", "> 0"),
        ({"type": "trailing_stop", "trail_percent": 100}, "trail_percent", "between 0 and 100"),
        ({"type": "trailing_stop", "trail_percent": "inf"}, "trail_percent", "finite"),
        ({"type": "trailing_stop", "trail_percent": 1, "time_in_force": "ioc"}, "time_in_force",
         "day or gtc"),
        ({"trail_price": 1}, "trail_price", "omitted for market orders"),
        ({"client_order_id": 12}, "client_order_id", "string"),
        ({"client_order_id": "x" * 49}, "client_order_id", "49 characters; at most 48"),
        ({"extended_hours": "yes"}, "extended_hours", "true or false"),
    ],
)
def test_parse_names_the_bad_field(overrides: dict[str, object], field: str, hint: str) -> None:
    with pytest.raises(InvalidOrderError) as err:
        parse(**overrides)
    assert err.value.field == field
    assert err.value.code == "INVALID_ORDER"
    assert str(err.value).startswith(f"{field}: ")
    assert hint in str(err.value)


def test_client_order_id_of_48_characters_is_accepted() -> None:
    assert parse(client_order_id="x" * 48).client_order_id == "x" * 48


def test_empty_client_order_id_means_none() -> None:
    assert parse(client_order_id="").client_order_id is None


@pytest.mark.parametrize(
    ("fields", "field", "hint"),
    [
        ({"qty": "15"}, "qty", "not a multiple of the lot size 10"),
        ({"qty": "10", "type": "limit", "limit_price": "100.005"}, "limit_price", "tick size 0.01"),
        ({"qty": "10", "type": "stop", "stop_price": "99.999"}, "stop_price", "tick size"),
        ({"qty": "10", "type": "trailing_stop", "trail_price": "0.001"}, "trail_price", "tick size"),
        ({"qty": "5000"}, "qty", "above the maximum 1000"),
    ],
)
def test_instrument_rules_name_the_bad_field(fields: dict[str, object], field: str, hint: str) -> None:
    instrument = Instrument(symbol="AAPL", lot_size=Decimal(10), min_qty=Decimal(10),
                            max_qty=Decimal(1000))
    req = parse(**fields)
    with pytest.raises(InvalidOrderError) as err:
        req.check_instrument(instrument)
    assert err.value.field == field
    assert hint in str(err.value)


def test_qty_below_instrument_minimum_is_refused() -> None:
    instrument = Instrument(symbol="AAPL", min_qty=Decimal(5))
    with pytest.raises(InvalidOrderError, match="below the minimum 5"):
        parse(qty=2).check_instrument(instrument)


def test_fractional_qty_on_a_fractional_instrument_is_accepted() -> None:
    instrument = Instrument(symbol="AAPL", lot_size=Decimal("0.001"), min_qty=Decimal("0.001"))
    parse(qty="0.125").check_instrument(instrument)  # does not raise


@pytest.mark.parametrize(("overrides", "field", "hint"), [
    ({"type": "limit", "limit_price": "1e-999999999"}, "limit_price", "more than 9 decimal places"),
    ({"type": "limit", "limit_price": "1e400"}, "limit_price", "above the maximum 1000000000"),
    ({"type": "limit", "limit_price": 1e308}, "limit_price", "above the maximum"),
    ({"qty": "1E+999999999999999999"}, "qty", "above the maximum 1000000000 for a quantity"),
    ({"qty": "9" * 5000}, "qty", "5000 characters long"),
    ({"type": "stop", "stop_price": "1e-999999999"}, "stop_price", "decimal places"),
    ({"type": "trailing_stop", "trail_percent": "1e-999999999"}, "trail_percent",
     "decimal places"),
    ({"type": "trailing_stop", "trail_percent": "150"}, "trail_percent",
     "above the maximum 100 for a percentage"),
])
def test_parse_refuses_numbers_outside_their_bounds(overrides: dict[str, object], field: str,
                                                    hint: str) -> None:
    with pytest.raises(InvalidOrderError) as err:
        parse(**overrides)
    assert err.value.field == field
    assert hint in str(err.value)


@pytest.mark.parametrize(("fields", "field"), [
    ({"qty": Decimal("1e-999999999")}, "qty"),
    ({"qty": Decimal("1e400")}, "qty"),
    ({"qty": Decimal("NaN")}, "qty"),
    ({"type": OrderType.LIMIT, "limit_price": Decimal("sNaN")}, "limit_price"),
    ({"type": OrderType.LIMIT, "limit_price": Decimal("1e-999999999")}, "limit_price"),
    ({"type": OrderType.LIMIT, "limit_price": Decimal("1E+999999999999999999")}, "limit_price"),
    ({"type": OrderType.STOP, "stop_price": Decimal("1" * 5000 + ".5")}, "stop_price"),
])
def test_instrument_check_of_unparsed_decimals_refuses_and_never_raises_arithmetic(
        fields: dict[str, object], field: str) -> None:
    """A request built without parse (a caller that skipped it) still cannot pass or crash."""
    base: dict[str, object] = {"symbol": "AAPL", "qty": Decimal(1), "side": OrderSide.BUY,
                               "type": OrderType.MARKET, "time_in_force": TimeInForce.GTC}
    request = OrderRequest(**{**base, **fields})  # type: ignore[arg-type]
    for instrument in (Instrument(symbol="AAPL"), Instrument(symbol="AAPL", tick_size=Decimal(0),
                                                             lot_size=Decimal(0))):
        with pytest.raises(InvalidOrderError) as err:
            request.check_instrument(instrument)
        assert err.value.field == field
        assert len(str(err.value)) < 300


# ---- state machine -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "trigger", "expected"),
    [
        (None, T.ACCEPT, S.ACCEPTED),
        (None, T.REJECT, S.REJECTED),
        (S.ACCEPTED, T.ROUTE, S.NEW),
        (S.ACCEPTED, T.REJECT, S.REJECTED),
        (S.ACCEPTED, T.FILL, S.FILLED),
        (S.NEW, T.PARTIAL_FILL, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, T.PARTIAL_FILL, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, T.FILL, S.FILLED),
        (S.NEW, T.CANCEL, S.CANCELED),
        (S.NEW, T.EXPIRE, S.EXPIRED),
        (S.PARTIALLY_FILLED, T.REPLACE, S.REPLACED),
        (S.NEW, T.REQUEST_CANCEL, S.PENDING_CANCEL),
        (S.PENDING_CANCEL, T.FILL, S.FILLED),
        (S.PENDING_CANCEL, T.CANCEL, S.CANCELED),
        (S.PENDING_REPLACE, T.REPLACE, S.REPLACED),
        (S.NEW, T.DONE_FOR_DAY, S.DONE_FOR_DAY),
        (S.DONE_FOR_DAY, T.REACTIVATE, S.NEW),
    ],
)
def test_legal_transition_is_looked_up(status: OrderStatus | None, trigger: Trigger,
                                       expected: OrderStatus) -> None:
    assert TRANSITIONS[(status, trigger)] is expected
    assert next_status("o-1", status, trigger) is expected


@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_terminal_status_never_changes(status: OrderStatus, trigger: Trigger) -> None:
    assert (status, trigger) not in TRANSITIONS
    with pytest.raises(IllegalTransitionError):
        next_status("o-1", status, trigger)


@pytest.mark.parametrize(
    ("status", "trigger"),
    [
        (None, T.FILL),
        (None, T.ROUTE),
        (S.NEW, T.ACCEPT),
        (S.NEW, T.ROUTE),
        (S.ACCEPTED, T.ACCEPT),
        (S.ACCEPTED, T.DONE_FOR_DAY),
        (S.PENDING_CANCEL, T.REPLACE),
        (S.NEW, T.REACTIVATE),
    ],
)
def test_illegal_transition_raises_naming_order_status_and_trigger(
        status: OrderStatus | None, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransitionError) as err:
        next_status("o-7", status, trigger)
    assert (err.value.order_id, err.value.status, err.value.trigger) == ("o-7", str(status), trigger.value)
    assert err.value.code == "ILLEGAL_TRANSITION"
    assert "o-7" in str(err.value)
    assert trigger.value in str(err.value)


def test_every_table_target_is_a_known_status_and_terminal_sources_are_absent() -> None:
    for (source, _trigger), target in TRANSITIONS.items():
        assert source not in TERMINAL
        assert target in OrderStatus
    assert WORKING.isdisjoint(TERMINAL)
    assert set(OrderStatus) == WORKING | TERMINAL


def test_order_transition_mutates_status_and_illegal_one_leaves_it() -> None:
    order = Order("o-1", "paper", parse(), ts=0)
    order.transition(T.ACCEPT)
    order.transition(T.ROUTE)
    order.transition(T.FILL)
    assert order.status is S.FILLED
    assert order.is_terminal
    with pytest.raises(IllegalTransitionError):
        order.transition(T.CANCEL)
    assert order.status is S.FILLED


def test_order_copies_request_fields_and_defaults_client_order_id_to_its_id() -> None:
    order = Order("o-9", "paper", parse(qty="3", side="sell"), ts=42)
    assert (order.symbol, order.qty, order.side, order.created_at) == ("AAPL", Decimal(3),
                                                                       OrderSide.SELL, 42)
    assert order.client_order_id == "o-9"
    assert order.leaves_qty == Decimal(3)
    assert order.signed_leaves() == Decimal(-3)
    assert order.status is None


def test_order_exposes_alpacas_field_names() -> None:
    order = Order("o-1", "paper", parse(), ts=0)
    alpaca = {"id", "client_order_id", "created_at", "updated_at", "filled_at", "canceled_at",
              "expired_at", "replaced_at", "replaced_by", "replaces", "symbol", "qty", "filled_qty",
              "filled_avg_price", "type", "side", "time_in_force", "limit_price", "stop_price",
              "trail_price", "trail_percent", "status", "extended_hours"}
    assert {name for name in alpaca if not hasattr(order, name)} == set()
