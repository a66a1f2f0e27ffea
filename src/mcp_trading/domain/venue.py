"""The paper venue: deterministic matching of working orders against the quote stream.

Rules (Alpaca-like): market orders take the ask (buy) or bid (sell) up to the quote's size;
limit orders fill when marketable at the touch, which is the limit or better; stops trigger
on the last trade (else the touching side) crossing the stop; trailing stops track the best
price since submission. Liquidity at the touch is consumed per quote in time priority, so the
same quote sequence always gives the same fills. The venue decides; it does not mutate orders:
it tells a `VenueSink` (the kernel), which records events.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from decimal import Decimal
from typing import Protocol

from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.orders import WORKING, Order, OrderSide, OrderStatus, OrderType, TimeInForce

__all__ = ["SymbolBook", "Venue", "VenueSink"]

# enum members bound once: attribute access on an Enum class costs ~100 ns on the hot path
_ACCEPTED = OrderStatus.ACCEPTED
_BUY = OrderSide.BUY
_FOK = TimeInForce.FOK
_IOC = TimeInForce.IOC
_LIMIT = OrderType.LIMIT
_MARKET = OrderType.MARKET
_STOP = OrderType.STOP
_STOP_LIMIT = OrderType.STOP_LIMIT
_TRAILING_STOP = OrderType.TRAILING_STOP

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_BPS = Decimal(10_000)
_STOPS = (_STOP, _STOP_LIMIT, _TRAILING_STOP)


class VenueSink(Protocol):
    def route(self, order: Order) -> None: ...
    def fill(self, order: Order, qty: Decimal, price: Decimal) -> None: ...
    def trigger(self, order: Order) -> None: ...
    def trail(self, order: Order, watermark: Decimal, stop_price: Decimal) -> None: ...
    def cancel(self, order: Order, reason: str) -> None: ...


class SymbolBook:
    """Working orders of one symbol: sorted limit ladders plus the rest in arrival order.

    Entries are removed lazily: a ladder entry whose order is no longer working is skipped
    and dropped when it reaches the top.
    """

    __slots__ = ("ask_left", "asks", "bid_left", "bids", "buy_queue", "others", "quote",
                 "sell_queue", "seq", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: list[tuple[Decimal, int, Order]] = []  # (-limit, seq): best first
        self.asks: list[tuple[Decimal, int, Order]] = []  # (limit, seq): best first
        self.others: list[Order] = []  # untriggered stops, orders not yet at the venue
        # market orders (and triggered stops) waiting for liquidity, in time priority: a quote
        # fills from the front until its size is used up, so waiting costs O(fills), not O(n)
        self.buy_queue: deque[Order] = deque()
        self.sell_queue: deque[Order] = deque()
        self.quote: Quote | None = None
        self.ask_left = _ZERO
        self.bid_left = _ZERO
        self.seq = 0

    def rest(self, order: Order) -> None:
        self.seq += 1
        price = order.limit_price
        if order.status is _ACCEPTED:
            self.others.append(order)  # not at the venue yet (latency): routed on a later quote
        elif order.type in (_LIMIT, _STOP_LIMIT) and price is not None and (
                order.type is _LIMIT or order.triggered):
            if order.side is _BUY:
                insort(self.bids, (-price, self.seq, order))
            else:
                insort(self.asks, (price, self.seq, order))
        elif order.type is _MARKET or (order.triggered and order.type is not _STOP_LIMIT):
            (self.buy_queue if order.side is _BUY else self.sell_queue).append(order)
        else:
            self.others.append(order)

    def working_count(self) -> int:
        return sum(1 for e in self.bids + self.asks if e[2].status in WORKING) + sum(
            1 for o in (*self.others, *self.buy_queue, *self.sell_queue) if o.status in WORKING)


class Venue:
    def __init__(self, instruments: dict[str, Instrument], slippage: SlippageModel) -> None:
        self._instruments = instruments
        self._slippage = slippage
        self._no_slippage = slippage.is_zero
        self.books: dict[str, SymbolBook] = {}

    def book(self, symbol: str) -> SymbolBook:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = SymbolBook(symbol)
        return book

    # ---- entry points -------------------------------------------------------------------
    def on_quote(self, quote: Quote, sink: VenueSink, *, session_open: bool) -> None:
        book = self.book(quote.symbol)
        book.quote = quote
        book.ask_left = quote.ask_size
        book.bid_left = quote.bid_size
        if book.others:
            pending = book.others
            book.others = []
            for order in pending:
                if order.status not in WORKING:
                    continue
                if order.active_at > quote.ts:
                    book.others.append(order)
                    continue
                self._work(order, book, quote, sink, session_open, resting=True)
        if session_open:
            if book.buy_queue:
                self._drain(book.buy_queue, book, quote, sink, buy=True)
            if book.sell_queue:
                self._drain(book.sell_queue, book, quote, sink, buy=False)
        if book.bids or book.asks:
            self._cross_ladders(book, quote, sink, session_open)

    def on_new_order(self, order: Order, sink: VenueSink, *, session_open: bool) -> None:
        """An order reaching the venue: match what is marketable now, rest the rest."""
        book = self.books.get(order.symbol) or self.book(order.symbol)
        quote = book.quote
        if quote is None:
            if order.time_in_force in (_IOC, _FOK):
                sink.cancel(order, "no quote to match an immediate-or-cancel order against")
            else:
                book.rest(order)
            return
        self._work(order, book, quote, sink, session_open, resting=False)

    def forget(self, symbol: str) -> None:
        """Drop ladder entries that are no longer working (compaction)."""
        book = self.books.get(symbol)
        if book is not None:
            book.bids = [e for e in book.bids if e[2].status in WORKING]
            book.asks = [e for e in book.asks if e[2].status in WORKING]
            book.others = [o for o in book.others if o.status in WORKING]
            book.buy_queue = deque(o for o in book.buy_queue if o.status in WORKING)
            book.sell_queue = deque(o for o in book.sell_queue if o.status in WORKING)

    # ---- matching -------------------------------------------------------------------------
    def _work(self, order: Order, book: SymbolBook, quote: Quote, sink: VenueSink,
              session_open: bool, *, resting: bool) -> None:
        if order.status is _ACCEPTED:
            sink.route(order)
        kind = order.type
        if kind in _STOPS and not order.triggered:
            if kind is _TRAILING_STOP:
                self._trail(order, quote, sink)
            if not self._stop_crossed(order, quote):
                book.others.append(order)
                return
            sink.trigger(order)
        can_trade = session_open or (order.extended_hours and order.limit_price is not None)
        limit = order.limit_price if kind in (_LIMIT, _STOP_LIMIT) else None
        if can_trade:
            self._take(order, book, quote, limit, sink)
        if order.status not in WORKING:
            return
        tif = order.time_in_force
        if tif is _IOC or tif is _FOK:
            sink.cancel(order, f"{tif.value}: unfilled quantity canceled")
        elif limit is not None:
            book.rest(order)
        else:  # a market remainder waits, in time priority, for liquidity on later quotes
            (book.buy_queue if order.side is _BUY else book.sell_queue).append(order)

    def _drain(self, queue: deque[Order], book: SymbolBook, quote: Quote, sink: VenueSink,
               *, buy: bool) -> None:
        while queue:
            order = queue[0]
            if order.status not in WORKING:
                queue.popleft()
                continue
            if (book.ask_left if buy else book.bid_left) <= _ZERO:
                return
            self._take(order, book, quote, None, sink)
            if order.status in WORKING:
                return  # the quote's size is used up
            queue.popleft()

    def _take(self, order: Order, book: SymbolBook, quote: Quote, limit: Decimal | None,
              sink: VenueSink) -> None:
        buy = order.side is _BUY
        price = quote.ask if buy else quote.bid
        if limit is not None and (price > limit if buy else price < limit):
            return
        available = book.ask_left if buy else book.bid_left
        leaves = order.qty - order.filled_qty
        if available <= _ZERO:
            return
        if order.time_in_force is _FOK and available < leaves:
            return
        qty = leaves if leaves <= available else available
        if buy:
            book.ask_left = available - qty
        else:
            book.bid_left = available - qty
        sink.fill(order, qty, price if self._no_slippage else self._slipped(order, price, limit))

    def _cross_ladders(self, book: SymbolBook, quote: Quote, sink: VenueSink,
                       session_open: bool) -> None:
        bids = book.bids
        while bids and book.ask_left > _ZERO:
            order = bids[0][2]
            if order.status not in WORKING:
                bids.pop(0)
                continue
            limit = order.limit_price
            if limit is None or quote.ask > limit:
                break
            if not (session_open or order.extended_hours):
                break
            self._take(order, book, quote, limit, sink)
            if order.status in WORKING:
                break  # liquidity exhausted
            bids.pop(0)
        asks = book.asks
        while asks and book.bid_left > _ZERO:
            order = asks[0][2]
            if order.status not in WORKING:
                asks.pop(0)
                continue
            limit = order.limit_price
            if limit is None or quote.bid < limit:
                break
            if not (session_open or order.extended_hours):
                break
            self._take(order, book, quote, limit, sink)
            if order.status in WORKING:
                break
            asks.pop(0)

    def _slipped(self, order: Order, price: Decimal, limit: Decimal | None) -> Decimal:
        instrument = self._instruments[order.symbol]
        move = price * self._slippage.bps / _BPS
        if order.side is _BUY:
            slipped = instrument.round_to_tick(price + move, up=True)
            return min(slipped, limit) if limit is not None else slipped
        slipped = instrument.round_to_tick(price - move, up=False)
        return max(slipped, limit) if limit is not None else slipped

    @staticmethod
    def _stop_crossed(order: Order, quote: Quote) -> bool:
        stop = order.stop_price
        if stop is None:
            return False
        if order.side is _BUY:
            return (quote.last if quote.last is not None else quote.ask) >= stop
        return (quote.last if quote.last is not None else quote.bid) <= stop

    def _trail(self, order: Order, quote: Quote, sink: VenueSink) -> None:
        buy = order.side is _BUY
        seen = quote.last if quote.last is not None else (quote.ask if buy else quote.bid)
        mark = order.watermark
        if mark is not None and (seen >= mark if buy else seen <= mark) and order.stop_price is not None:
            return
        instrument = self._instruments[order.symbol]
        if order.trail_price is not None:
            offset = order.trail_price
        else:
            offset = seen * (order.trail_percent or _ZERO) / _HUNDRED
        stop = instrument.round_to_tick(seen + offset if buy else seen - offset, up=buy)
        sink.trail(order, seen, stop)
