from fissionmall.core.errors import TooManyRequests


def velocity_limited(scope: str, limit: int) -> TooManyRequests:
    return TooManyRequests("velocity_limited", f"at most {limit} of these per hour from one {scope}; try again later",
                           scope=scope, limit=limit)
