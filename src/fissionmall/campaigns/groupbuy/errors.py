from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def group_not_found(group_id: int) -> NotFound:
    return NotFound("group_not_found", f"no group {group_id}")


def group_closed(status: str) -> Conflict:
    return Conflict("group_closed", f"this group is {status}; open a new one or join another")


def group_full() -> Conflict:
    return Conflict("group_full", "this group has no place left; open a new one or join another")


def already_in_group() -> Conflict:
    return Conflict("already_in_group", "you are already in this group")


def new_customers_only() -> Conflict:
    return Conflict("new_customers_only", "only customers who have never ordered may join this group")


def one_item() -> InvalidInput:
    return InvalidInput("one_item_per_group_order", "a group order buys one SKU", field="items")


def sku_not_in_campaign(sku_id: int) -> InvalidInput:
    return InvalidInput("sku_not_in_campaign", f"SKU {sku_id} is not sold in this campaign", field="items")


def product_not_in_campaign(product_id: int) -> InvalidInput:
    return InvalidInput("product_not_in_campaign", f"product {product_id} is not one of this group's products: "
                        "choose one of the products it lists", field="items")


def payment_not_offered(chosen: str) -> InvalidInput:
    return InvalidInput("payment_not_offered", f"this group buy does not take {chosen} payment",
                        field="campaign.payment")
