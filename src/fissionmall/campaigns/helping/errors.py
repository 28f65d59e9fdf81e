from fissionmall.core.errors import Conflict, Forbidden, InvalidInput, NotFound


def cannot_help_self() -> Forbidden:
    return Forbidden("cannot_help_self", "you cannot help your own record; share it with a friend")


def new_helpers_only() -> Forbidden:
    return Forbidden("new_helpers_only", "only customers who have not bought here before may help")


def already_helped() -> Conflict:
    return Conflict("already_helped", "you have already helped this one")


def help_limit_reached(limit: int) -> Conflict:
    return Conflict("help_limit_reached", f"you may help {limit} time(s) a day in this campaign", limit=limit)


def goods_prize_not_found(prize_id: int) -> NotFound:
    return NotFound("goods_prize_not_found", f"no goods prize {prize_id} of yours")


def goods_prize_taken(status: str) -> Conflict:
    return Conflict("goods_prize_taken", f"this goods prize is {status}: an order already holds it",
                    prize_status=status)


def wrong_goods(sku_id: int) -> InvalidInput:
    return InvalidInput("wrong_goods", f"a goods prize is ordered alone, one unit of its SKU {sku_id}", field="items")
