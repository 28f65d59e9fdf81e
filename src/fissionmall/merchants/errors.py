from fissionmall.core.errors import NotFound, Unauthorized


def merchant_not_found(slug: str) -> NotFound:
    return NotFound("merchant_not_found", f"no merchant {slug!r}")


def bad_credentials() -> Unauthorized:
    return Unauthorized("invalid_credentials", "username or password is wrong")
