from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def bargain_not_found(bargain_id: int) -> NotFound:
    return NotFound("bargain_not_found", f"no bargain {bargain_id}")


def bargain_complete() -> Conflict:
    return Conflict("bargain_complete", "this bargain has reached its floor price; no more cuts are needed")


def bargain_closed(status: str) -> Conflict:
    return Conflict("bargain_closed", f"this bargain is {status}")


def floor_not_reached() -> Conflict:
    return Conflict("floor_not_reached", "this bargain can be bought only once it reaches its floor price")


def bargain_in_order() -> Conflict:
    return Conflict("bargain_in_order", "this bargain is in an order at its current price; pay or cancel that one")


def wrong_item() -> InvalidInput:
    return InvalidInput("bargain_item_mismatch", "a bargain buys exactly one unit of its own SKU", field="items")
