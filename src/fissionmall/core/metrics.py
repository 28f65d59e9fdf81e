"""Prometheus metrics this process counts itself: requests, notifications, refund calls (the pool's waits are
counted by `db/engine.py`, which owns the pool).

Each process keeps its own counts (several `serve` workers or hosts each expose theirs, and Prometheus adds them
up across targets); what lives in the database (the job queue) is read at scrape time instead
(`operations/service.py`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Histogram(
    "fissionmall_http_request_duration_seconds",
    "Time to answer an HTTP request; its _count is the number of requests.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
"""By route template (`/api/v1/orders/{order_id}`, or `unmatched`) and status class (`2xx` …), so the number of
series stays fixed whatever paths clients send."""

NOTIFICATIONS = Counter("fissionmall_payment_notifications_total",
                        "Payment provider notifications by outcome: applied, duplicate, ignored, refused (valid but "
                        "matching nothing), rejected (bad signature or body).",
                        ["provider", "outcome"])
REFUND_CALLS = Counter("fissionmall_refund_calls_total",
                       "Refund requests sent to the payment provider by the worker: accepted or failed (retried).",
                       ["provider", "outcome"])


def status_class(status: int) -> str:
    return f"{status // 100}xx"
