from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from fissionmall.core.schemas import RowId

MAX_PRICE_FEN = 100_000_000
FORFEITABLE_DEPOSIT_PERCENT = 20

PaymentOptions = Literal["full_only", "deposit_only", "shopper_chooses"]
"""How members of a group pay: in full (全款), a deposit now and the balance after success (定金), or each shopper
chooses one of the two when ordering (顾客自选)."""


class GroupSku(BaseModel):
    sku_id: RowId
    group_price_fen: int = Field(ge=1, le=MAX_PRICE_FEN)


MAX_PRODUCTS = 10


class GroupProduct(BaseModel):
    """One product of a multi-product group (多产品拼团) and the group price of each of its SKUs on sale in it."""

    product_id: RowId
    skus: list[GroupSku] = Field(min_length=1, max_length=50)


class Offer(BaseModel):
    """A product on sale in a group campaign, whichever form its settings take."""

    product_id: int
    skus: list[GroupSku]


class Tier(BaseModel):
    """阶梯团: when the group ends with at least `size` paid members, everyone pays `price_fen`."""

    size: int = Field(ge=2, le=100)
    price_fen: int = Field(ge=1, le=MAX_PRICE_FEN)


class GroupBuySettings(BaseModel):
    """Everything a merchant sets on a group-buying campaign (拼团); each field checked."""

    products: list[GroupProduct] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    """多产品拼团: a set of products (flavours, a "pick any" bundle), each with its SKUs' group prices; each member
    chooses one product and SKU, and the group fills by paid members whatever each chose. Set this, or `product_id`
    and `skus` (one product), never both."""
    product_id: RowId | None = Field(default=None, validate_default=True)
    """The product of a one-product group (None when `products` lists several)."""
    skus: list[GroupSku] = Field(default_factory=list, max_length=50, validate_default=True)
    """The group price of each SKU of `product_id` on sale in the group."""
    group_size: int = Field(ge=2, le=100)
    fill_minutes: int = Field(default=24 * 60, ge=5, le=7 * 24 * 60)
    """Time to fill a group, from the leader's payment."""
    per_customer_limit: int = Field(default=1, ge=1, le=100)
    """Group orders one customer may hold in this campaign (cancelled and refunded ones give theirs back)."""
    leader_discount_fen: int = Field(default=0, ge=0, le=MAX_PRICE_FEN)
    """团长价: the leader pays the group price less this (never below 1 fen)."""
    new_customers_only: bool = False
    """老带新: members other than the leader must not have paid for any order before."""
    listed: bool = True
    """凑团: open groups are listed for strangers to join."""
    auto_complete_min_paid: int | None = Field(default=None, ge=1, le=99)
    """At expiry, a group with at least this many paid members succeeds as it is (in the buyers' favour)."""
    tiers: list[Tier] = Field(default_factory=list, max_length=10)
    race_loser: Literal["new_group", "refund"] = "new_group"
    """A payment that finds its group full (or closed) opens a new group with the payer as leader, or is
    refunded in full."""
    leader_commission_bp: int = Field(default=0, ge=0, le=2000)
    """团长佣金: the leader earns this share (basis points) of what each other member paid in full, when the group
    succeeds; frozen until the order completes, reversed by share with refunds."""
    deposit_percent: int | None = Field(default=None, ge=1, le=50)
    """Pay this share of the price to join (rounded down, at least 1 fen) and the balance once the group
    succeeds; None: pay in full."""
    balance_hours: int = Field(default=48, ge=1, le=7 * 24)
    """Time to pay the balance after the group succeeds."""
    deposit_on_lapse: Literal["refund", "forfeit"] = Field(default="refund", validate_default=True)
    """An unpaid balance at its deadline returns the deposit, or keeps it (定金, published before joining)."""
    payment_options: PaymentOptions | None = None
    """Full payment only, deposit only, or the shopper chooses. Left out, it follows `deposit_percent` (deposit only
    when one is set, full only when not), so settings saved before the choice existed keep their meaning."""

    # Cross-field checks sit on the later field, so an error names the setting (settings.<field>).

    @field_validator("products")
    @classmethod
    def _distinct_products(cls, products: list[GroupProduct]) -> list[GroupProduct]:
        if not products:
            return products
        if len(products) < 2:
            raise PydanticCustomError("products_too_few", "a multi-product group lists at least two products; one "
                                      "product takes product_id and skus")
        if len({p.product_id for p in products}) != len(products):
            raise PydanticCustomError("product_repeated", "each product may appear once")
        skus = [s.sku_id for p in products for s in p.skus]
        if len(set(skus)) != len(skus):
            raise PydanticCustomError("sku_repeated", "each SKU may appear once")
        return products

    @field_validator("product_id")
    @classmethod
    def _one_form(cls, product_id: int | None, info: ValidationInfo) -> int | None:
        products = info.data.get("products")
        if products and product_id is not None:
            raise PydanticCustomError("group_form_mixed", "set products (several products) or product_id and skus "
                                      "(one product), not both")
        if products is not None and not products and product_id is None:
            raise PydanticCustomError("product_required", "choose the product (or list several under products)")
        return product_id

    @field_validator("skus")
    @classmethod
    def _distinct_skus(cls, skus: list[GroupSku], info: ValidationInfo) -> list[GroupSku]:
        products = info.data.get("products")
        if products and skus:
            raise PydanticCustomError("group_form_mixed", "with products, each product lists its own SKUs: leave skus "
                                      "out")
        if products is not None and not products and not skus:
            raise PydanticCustomError("skus_required", "list at least one SKU and its group price")
        if len({s.sku_id for s in skus}) != len(skus):
            raise PydanticCustomError("sku_repeated", "each SKU may appear once")
        return skus

    @field_validator("leader_discount_fen")
    @classmethod
    def _leader_pays(cls, discount: int, info: ValidationInfo) -> int:
        if any(s.group_price_fen <= discount for s in _all_skus(info.data)):
            raise ValueError("leader_discount_fen must leave the leader at least 1 fen to pay")
        return discount

    @field_validator("auto_complete_min_paid")
    @classmethod
    def _below_size(cls, value: int | None, info: ValidationInfo) -> int | None:
        size = info.data.get("group_size")
        if value is not None and size is not None and value >= size:
            raise ValueError("auto_complete_min_paid must be smaller than group_size")
        return value

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: list[Tier], info: ValidationInfo) -> list[Tier]:
        if not tiers:
            return tiers
        skus, size = _all_skus(info.data), info.data.get("group_size")
        sizes = [t.size for t in tiers]
        prices = [t.price_fen for t in tiers]
        if len(skus) != 1:
            raise ValueError("tiered groups sell one SKU")
        if sizes != sorted(set(sizes)) or prices != sorted(set(prices), reverse=True):
            raise ValueError("tiers must grow in size and fall in price, strictly")
        if sizes[-1] != size:
            raise ValueError("the largest tier must be the group size")
        if prices[0] > skus[0].group_price_fen:
            raise ValueError("no tier may cost more than the group price members pay up front")
        if info.data.get("auto_complete_min_paid") is not None:
            raise ValueError("tiered groups end at their smallest tier: leave auto_complete_min_paid out")
        return tiers


    @field_validator("deposit_on_lapse")
    @classmethod
    def _deposit(cls, rule: str, info: ValidationInfo) -> str:
        percent = info.data.get("deposit_percent")
        if percent is None:
            return rule
        if rule == "forfeit" and percent > FORFEITABLE_DEPOSIT_PERCENT:
            raise ValueError(f"a deposit kept when the balance is not paid (定金) may be at most "
                             f"{FORFEITABLE_DEPOSIT_PERCENT}% of the price (Civil Code art. 586)")
        tiers, skus = info.data.get("tiers") or [], _all_skus(info.data)
        if tiers and skus and skus[0].group_price_fen * percent >= tiers[-1].price_fen * 100:
            raise ValueError("the deposit must stay below the cheapest tier, so a balance is always left to pay")
        return rule

    @field_validator("payment_options")
    @classmethod
    def _payment_options(cls, options: PaymentOptions | None, info: ValidationInfo) -> PaymentOptions | None:
        if options is None or "deposit_percent" not in info.data:
            return options  # left out: it follows deposit_percent (rules.payment_options); or that was refused
        percent = info.data["deposit_percent"]
        if options == "full_only" and percent is not None:
            raise ValueError("full_only takes no deposit: leave deposit_percent out, or choose deposit_only or "
                             "shopper_chooses")
        if options != "full_only" and percent is None:
            raise ValueError(f"{options} needs deposit_percent, the share paid as a deposit")
        return options

    @model_serializer(mode="wrap")
    def _stored(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Stored and shown in its own form only: a one-product group as it always was (product_id, skus), a
        multi-product group as its products."""
        data: dict[str, Any] = handler(self)
        for unused in (("product_id", "skus") if self.products else ("products",)):
            data.pop(unused, None)
        return data

    def offers(self) -> list[Offer]:
        """The products on sale in the group and their SKUs' prices: one, or the list of a multi-product group."""
        if self.products:
            return [Offer(product_id=p.product_id, skus=p.skus) for p in self.products]
        return [Offer(product_id=self.product_id or 0, skus=self.skus)]

    def all_skus(self) -> list[GroupSku]:
        return [sku for offer in self.offers() for sku in offer.skus]

    def first_product(self) -> int:
        """The campaign's product: its one product, or the first of a multi-product group (its cover)."""
        return self.offers()[0].product_id


def _all_skus(data: dict[str, Any]) -> list[GroupSku]:
    """The SKUs validated so far, of either form (for the checks of later fields)."""
    products: list[GroupProduct] = data.get("products") or []
    return [s for p in products for s in p.skus] or list(data.get("skus") or [])


class GroupMemberOut(BaseModel):
    customer_id: int
    nickname: str
    avatar_url: str
    is_leader: bool
    product_id: int | None = None
    """What the member chose: their order's product and SKU, and its line's title (商品 · 规格)."""
    sku_id: int | None = None
    chose: str = ""


class GroupOut(BaseModel):
    id: int
    campaign_id: int
    status: str
    size: int
    paid_count: int
    places_left: int
    expires_at: datetime
    seconds_left: int
    members: list[GroupMemberOut]


class GroupPage(BaseModel):
    """A campaign's groups for its merchant, newest first."""

    items: list[GroupOut]
    next_cursor: str | None


class GroupCampaignOut(BaseModel):
    """What the product and rules pages show (COMPLIANCE P3, P5): prices, size, deadline, what happens if a
    group does not fill."""

    id: int
    name: str
    product_id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    group_size: int
    fill_minutes: int
    skus: list[GroupSku]
    """Every SKU on sale in the group, of every product."""
    products: list[Offer]
    """The products members choose from (one, or several in a multi-product group), each with its SKUs."""
    leader_discount_fen: int
    new_customers_only: bool
    per_customer_limit: int
    tiers: list[Tier]
    deposit_percent: int | None
    balance_hours: int
    deposit_on_lapse: str
    payment_options: PaymentOptions
    """full_only, deposit_only, or shopper_chooses: then an order says which with campaign.payment."""
    rules: list[str]
    """The published rules, in plain words."""
