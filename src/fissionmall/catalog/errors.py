from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def product_not_found(product_id: int) -> NotFound:
    return NotFound("product_not_found", f"no product {product_id}")


def sku_not_found(sku_id: int) -> NotFound:
    return NotFound("sku_not_found", f"no SKU {sku_id}")


def category_not_found(category_id: int) -> InvalidInput:
    return InvalidInput("category_not_found", f"no category {category_id}", field="category_id")


def sku_code_taken(codes: list[str]) -> Conflict:
    return Conflict("sku_code_taken", f"SKU code already used: {', '.join(sorted(codes))}")


def stock_below_zero(sku_id: int) -> Conflict:
    return Conflict("stock_below_zero", f"SKU {sku_id} has less stock than the decrease")
