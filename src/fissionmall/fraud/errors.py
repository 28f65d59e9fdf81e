from fissionmall.core.errors import DomainError


class TooFast(DomainError):
    status = 429
    title = "Too many requests"


def velocity_limited(scope: str, limit: int) -> TooFast:
    return TooFast("velocity_limited", f"at most {limit} of these per hour from one {scope}; try again later",
                   scope=scope, limit=limit)
