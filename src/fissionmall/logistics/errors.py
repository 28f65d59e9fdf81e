from fissionmall.core.errors import Conflict, NotFound, Unauthorized


def no_provider(name: str) -> NotFound:
    return NotFound("unknown_logistics_provider", f"no logistics provider {name!r} on this server")


def invalid_push(reason: str) -> Unauthorized:
    return Unauthorized("invalid_push", f"push rejected: {reason}")


def unknown_shipment(tracking_no: str) -> NotFound:
    return NotFound("unknown_shipment", f"no shipment with tracking number {tracking_no!r} is followed here")


def not_tracked(order_id: int) -> Conflict:
    return Conflict("shipment_not_tracked", f"order {order_id} has no parcel followed at a logistics provider")


def provider_failed(code: str, message: str) -> Conflict:
    return Conflict("logistics_provider_failed", f"the logistics provider answered {code}: {message}")
