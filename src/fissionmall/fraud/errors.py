from fissionmall.core.errors import TooManyRequests as TooFast


def velocity_limited(scope: str, limit: int) -> TooFast:
    return TooFast("velocity_limited", f"at most {limit} of these per hour from one {scope}; try again later",
                   scope=scope, limit=limit)
