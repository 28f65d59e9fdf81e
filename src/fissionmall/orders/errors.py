from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def order_not_found(order_id: int) -> NotFound:
    return NotFound("order_not_found", f"no order {order_id}")


def refund_not_found(refund_id: int) -> NotFound:
    return NotFound("refund_not_found", f"no refund {refund_id}")


def invalid_transition(current: str, target: str) -> Conflict:
    return Conflict("invalid_transition", f"an order that is {current} cannot become {target}",
                    status_now=current)


def order_changed() -> Conflict:
    return Conflict("order_changed", "the order changed meanwhile; reload it and try again")


def out_of_stock(sku_id: int) -> Conflict:
    return Conflict("out_of_stock", f"SKU {sku_id} does not have enough stock", sku_id=sku_id)


def sku_unavailable(sku_ids: list[int]) -> InvalidInput:
    return InvalidInput("sku_unavailable", f"not for sale: SKU {', '.join(map(str, sku_ids))}",
                        sku_ids=sku_ids)


def refund_too_large(available: int) -> InvalidInput:
    return InvalidInput("refund_exceeds_paid", f"at most {available} fen can still be refunded",
                        refundable_fen=available, field="amount_fen")


def line_not_in_order(sku_id: int) -> InvalidInput:
    return InvalidInput("line_not_in_order", "this order has no line of this SKU", field="sku_id", sku_id=sku_id)


def line_refunded(sku_id: int) -> Conflict:
    return Conflict("line_refunded", "nothing is left to refund of this line", sku_id=sku_id)


def refund_exceeds_line(sku_id: int, available: int) -> InvalidInput:
    return InvalidInput("refund_exceeds_line", f"at most {available} fen of this line can still be refunded",
                        refundable_fen=available, field="amount_fen", sku_id=sku_id)


def refund_in_progress() -> Conflict:
    return Conflict("refund_in_progress", "a refund of this order is already being handled")


def refund_not_pending(status: str) -> Conflict:
    return Conflict("refund_not_pending", f"the refund is {status}, not awaiting a decision")


def below_zero() -> InvalidInput:
    return InvalidInput("total_below_zero", "the adjustment would make the order total negative",
                        field="amount_fen")
