from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def voucher_not_found(voucher_id: int | str) -> NotFound:
    return NotFound("voucher_not_found", f"no voucher {voucher_id}")


def not_redeemable(status: str) -> Conflict:
    return Conflict("voucher_not_redeemable", f"this voucher cannot be redeemed ({status})", status_now=status)


def not_sendable(status: str) -> Conflict:
    return Conflict("voucher_not_sendable", f"this voucher cannot be sent ({status})", status_now=status)


def claim_refused() -> Conflict:
    return Conflict("voucher_claim_refused", "this gift link has been used, has expired, or is not valid")


def wrong_item() -> InvalidInput:
    return InvalidInput("voucher_item_mismatch", "a gift voucher is bought as its own SKU", field="items")


def named_not_transferable() -> Conflict:
    return Conflict("voucher_named", "a named voucher belongs to its holder and cannot be given away")
