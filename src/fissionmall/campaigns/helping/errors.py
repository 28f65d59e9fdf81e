from fissionmall.core.errors import Conflict, Forbidden


def cannot_help_self() -> Forbidden:
    return Forbidden("cannot_help_self", "you cannot help your own record; share it with a friend")


def new_helpers_only() -> Forbidden:
    return Forbidden("new_helpers_only", "only customers who have not bought here before may help")


def already_helped() -> Conflict:
    return Conflict("already_helped", "you have already helped this one")


def help_limit_reached(limit: int) -> Conflict:
    return Conflict("help_limit_reached", f"you may help {limit} time(s) a day in this campaign", limit=limit)
