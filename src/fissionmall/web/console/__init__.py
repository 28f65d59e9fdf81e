"""The merchant console at /console: server-rendered pages for the four staff roles. Pages read through the domains'
services; every change goes through the merchant API (the pages' forms post JSON to it with the console's session
cookie and CSRF token), so the console and any other client obey the same rules and write the same audit log."""

from fissionmall.web.console import (
    analytics,
    audit,
    campaigns,
    catalog,
    counter,
    customers,
    dashboard,
    distribution,
    loyalty,
    moderation,
    orders,
    reviews,
    session,
    simulator,
    staff,
)

CONSOLE_ROUTERS = (session.router, dashboard.router, catalog.router, simulator.router, campaigns.router,
                   analytics.router, orders.router, customers.router, distribution.router, loyalty.router,
                   counter.router, reviews.router, staff.router, audit.router, moderation.router)
"""Every console page's router, in menu order (the simulator before the campaigns: /console/campaigns/simulate is
not a campaign's id)."""
