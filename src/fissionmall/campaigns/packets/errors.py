from fissionmall.core.errors import Conflict, NotFound


def packet_not_found(packet_id: int) -> NotFound:
    return NotFound("packet_not_found", f"no coupon packet {packet_id}")


def packet_empty() -> Conflict:
    return Conflict("packet_empty", "every coupon of this packet has been claimed")


def packet_closed(status: str) -> Conflict:
    return Conflict("packet_closed", f"this packet is {status}")

