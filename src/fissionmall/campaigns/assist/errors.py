from fissionmall.core.errors import Conflict, NotFound


def packet_not_found(packet_id: int) -> NotFound:
    return NotFound("packet_not_found", f"no packet {packet_id}")


def packet_complete() -> Conflict:
    return Conflict("packet_complete", "this packet already has all the help it needs")


def packet_closed(status: str) -> Conflict:
    return Conflict("packet_closed", f"this packet is {status}")
