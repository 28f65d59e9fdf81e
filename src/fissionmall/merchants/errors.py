from fissionmall.core.errors import Conflict, NotFound, Unauthorized


def merchant_not_found(slug: str) -> NotFound:
    return NotFound("merchant_not_found", f"no merchant {slug!r}")


def bad_credentials() -> Unauthorized:
    return Unauthorized("invalid_credentials", "username or password is wrong")


def merchant_slug_taken(slug: str) -> Conflict:
    return Conflict("merchant_slug_taken", f"merchant slug {slug!r} is taken")
