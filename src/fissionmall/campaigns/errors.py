from fissionmall.core.errors import Conflict, InvalidInput, NotFound


def campaign_not_found(campaign_id: int) -> NotFound:
    return NotFound("campaign_not_found", f"no campaign {campaign_id}")


def unknown_kind(kind: str) -> InvalidInput:
    return InvalidInput("unknown_campaign_kind", f"no campaign kind {kind!r}", field="kind")


def not_editable(status: str) -> Conflict:
    return Conflict("campaign_not_editable", f"a campaign that is {status} cannot be edited; pause it first")


def invalid_transition(status: str, target: str) -> Conflict:
    return Conflict("invalid_transition", f"a campaign that is {status} cannot become {target}", status_now=status)


def campaign_not_live() -> Conflict:
    return Conflict("campaign_not_live", "this campaign is not running now")


def sold_out() -> Conflict:
    return Conflict("campaign_sold_out", "this campaign has sold all it may sell")


def limit_reached(limit: int) -> Conflict:
    return Conflict("campaign_limit_reached", f"each customer may take part {limit} time(s) in this campaign",
                    limit=limit)
