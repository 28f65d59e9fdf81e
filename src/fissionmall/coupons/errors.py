from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def template_not_found(template_id: int) -> NotFound:
    return NotFound("coupon_template_not_found", f"no coupon {template_id} to claim")


def coupons_gone() -> Conflict:
    return Conflict("coupon_out_of_stock", "all of these coupons have been claimed")


def claim_limit(limit: int) -> Conflict:
    return Conflict("coupon_limit_reached", f"each customer may claim {limit} of these", limit=limit)


def invalid_transition(status: str, target: str) -> Conflict:
    return Conflict("invalid_transition", f"a coupon template that is {status} cannot become {target}",
                    status_now=status)


def not_claimable(status: str) -> Conflict:
    return Conflict("coupon_not_claimable", f"this coupon cannot be claimed now ({status})")


def unusable(coupon_ids: list[int]) -> InvalidInput:
    return InvalidInput("coupon_unavailable", "a chosen coupon is not yours, not valid now, or already in use",
                        field="coupon_ids", coupon_ids=coupon_ids)
