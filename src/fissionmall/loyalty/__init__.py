"""Loyalty: membership levels, points, tasks and the monthly dividend pool, one sub-package each.

The four share two tags in the API documentation, so a merchant finds them together as before."""

SHOPPER_TAG = "shopper: points"
ADMIN_TAG = "admin: points and dividend pool"
