from fissionmall.core.errors import Conflict, NotFound, TooManyRequests, Unauthorized


def merchant_not_found(slug: str) -> NotFound:
    return NotFound("merchant_not_found", f"no merchant {slug!r}")


def bad_credentials() -> Unauthorized:
    return Unauthorized("invalid_credentials", "username or password is wrong")


def merchant_slug_taken(slug: str) -> Conflict:
    return Conflict("merchant_slug_taken", f"merchant slug {slug!r} is taken")


def login_throttled(scope: str, retry_after: int) -> TooManyRequests:
    return TooManyRequests("login_throttled", f"too many failed sign-ins from this {scope}; try again later",
                           scope=scope, retry_after=retry_after)
