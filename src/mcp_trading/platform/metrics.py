"""Prometheus metrics: one registry per platform (tests may run several), real counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from mcp_trading.platform.latency import FineHistogram
from mcp_trading.platform.logs import lifecycle_dropped

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter("mcp_trading_http_requests", "HTTP requests served",
                                     ["service", "method", "status"], registry=r)
        self.http_latency = Histogram("mcp_trading_http_request_seconds", "HTTP request latency",
                                      ["service"], buckets=_LATENCY_BUCKETS, registry=r)
        self.orders = Counter("mcp_trading_orders", "Orders submitted, by outcome",
                              ["outcome"], registry=r)
        # label children resolved once: labels() takes a lock and a dict lookup per call
        self.orders_accepted = self.orders.labels("accepted")
        self.orders_rejected = self.orders.labels("rejected")
        self.order_ack = Histogram("mcp_trading_order_ack_seconds",
                                   "Submit to durable acknowledgement", buckets=_LATENCY_BUCKETS,
                                   registry=r)
        #: POST /orders inside the engine: request bytes parsed -> answer handed to the socket
        #: (the event loop's queueing included, the client's and the network's not)
        self.order_ack_server = FineHistogram(
            "mcp_trading_order_ack_server_seconds",
            "POST /orders, request parsed by the server to answer written (fine buckets)")
        r.register(self.order_ack_server)
        self.fills = Counter("mcp_trading_fills", "Fills from the paper venue", registry=r)
        self.quotes = Counter("mcp_trading_quotes", "Quotes received from the feed", registry=r)
        self.journal_seq = Gauge("mcp_trading_journal_durable_seq",
                                 "Last durable journal sequence number", registry=r)
        self.journal_commits = Gauge("mcp_trading_journal_commit_batches",
                                     "Group commits since start", registry=r)
        self.open_orders = Gauge("mcp_trading_open_orders", "Working orders", registry=r)
        self.alerts = Counter("mcp_trading_alerts", "Alerts raised", ["kind"], registry=r)
        # the alerting task's (services/alerts/notify.py): what its rules watch, open alerts
        self.alert_figure = Gauge("mcp_trading_alert_figure", "A figure the alert rules watch "
                                  "(cpu_percent, memory_percent, ...; services/alerts/rules.py)",
                                  ["metric"], registry=r)
        self.alerts_open = Gauge("mcp_trading_alerts_open", "Alerts not yet acknowledged",
                                 ["severity"], registry=r)
        self.alert_email_failures = Counter("mcp_trading_alert_email_failures",
                                            "Alert e-mails not delivered", registry=r)
        self.feed_age = Gauge("mcp_trading_feed_age_seconds", "Age of the newest quote", registry=r)
        # measured by Platform._watch_loop: how late a 10 ms timer fires on the event loop
        self.loop_lag = Gauge("mcp_trading_event_loop_lag_seconds",
                              "Longest event-loop lag in the last 5 s window", registry=r)
        self.loop_lag_max = Gauge("mcp_trading_event_loop_lag_max_seconds",
                                  "Longest event-loop lag since start", registry=r)
        self.hot_orders = Gauge("mcp_trading_kernel_orders",
                                "Orders in the kernel's memory (working + recently closed)",
                                registry=r)
        self.dedupe_entries = Gauge("mcp_trading_kernel_dedupe_entries",
                                    "Duplicate-check entries of released closed orders",
                                    registry=r)
        #: read at scrape time: the process's lifecycle log queue (platform/lifecycle_log.py)
        self.log_dropped = Gauge("mcp_trading_log_lines_dropped",
                                 "Order-lifecycle log lines dropped because the log queue was "
                                 "full (the writer never waits for the log)", registry=r)
        self.log_dropped.set_function(lifecycle_dropped)

    def render(self) -> bytes:
        return generate_latest(self.registry)
