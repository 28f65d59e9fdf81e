from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Actor:
    """Who is acting, as far as fraud checks can tell: the customer, their device and their network."""

    merchant_id: int
    customer_id: int
    openid: str
    created_at: datetime
    is_new: bool
    device_id: str | None
    ip: str | None
    signup_device_id: str | None = None

    @property
    def ip_range(self) -> str | None:
        """The /24 (IPv4) or /48 (IPv6) the address belongs to: one farm rarely spans more."""
        try:
            address = ipaddress.ip_address(self.ip or "")
        except ValueError:
            return None
        return str(ipaddress.ip_network(f"{address}/{48 if address.version == 6 else 24}", strict=False))


class VelocityLimits(BaseModel):
    """Actions per hour (helps, claims …) one customer, one device or one IP range may take in a campaign."""

    per_customer_hour: int = Field(default=30, ge=1, le=10_000)
    per_device_hour: int = Field(default=30, ge=1, le=10_000)
    per_ip_range_hour: int = Field(default=2000, ge=1, le=100_000)
    """Generous by default: a carrier NAT can put thousands of real shoppers behind one range."""
