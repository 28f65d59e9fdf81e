"""Each campaign kind's form, described once: every setting of the kind's settings model as a labelled field with its
type (amount in yuan, duration in the API field's unit, count, choice, product, SKU or coupon) and a hint of what it
does. One template macro draws any field from its description, so the nine forms are data, not nine templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

FieldType = Literal["money", "duration", "int", "bool", "choice", "product", "sku", "coupon", "rows"]


@dataclass(frozen=True)
class Setting:
    name: str
    """Its path in the settings, dotted when nested (reward_budget.total_fen)."""
    label: str
    type: FieldType
    hint: str = ""
    unit: str = ""
    """duration: the API field's unit (minutes, hours, days); int: the word after the number (人, 次, %)."""
    choices: tuple[tuple[str, str], ...] = ()
    """choice: (value sent, words shown); the value "" sends null."""
    optional: bool = False
    """Left empty, the setting is left out (the model's default, often "none")."""
    rows: int = 0
    columns: tuple[Setting, ...] = ()
    """rows: a list of small records (a SKU and its group price …), `rows` lines of these columns."""


def _velocity() -> tuple[Setting, ...]:
    return (
        Setting("velocity.per_customer_hour", "每人每小时操作上限", "int",
                "同一顾客一小时内在本活动最多操作（助力、领取）的次数", "次"),
        Setting("velocity.per_device_hour", "每台设备每小时上限", "int", "同一设备一小时内最多操作的次数", "次"),
        Setting("velocity.per_ip_range_hour", "每个网段每小时上限", "int",
                "同一 IP 网段一小时内最多操作的次数；运营商共享出口下有大量真实顾客，宜宽松", "次"),
    )


HELP_RULES: tuple[Setting, ...] = (
    Setting("helps_per_helper_per_day", "每人每天可助力次数", "int", "一位顾客每天最多帮多少个发起人", "次"),
    Setting("new_helpers_only", "仅限新顾客助力", "bool", "只有从未在本店付款的顾客可以助力"),
    Setting("self_help", "允许为自己助力", "bool", "发起人可以给自己助力一次（须在规则中公开说明）"),
    *_velocity(),
    Setting("high_risk", "高风险顾客的奖励", "choice", "风险等级高的顾客应得现金类奖励时的处理",
            choices=(("nothing", "不发放"), ("minimum", "只发最低额"))),
)
"""What every help-driven kind (bargain, assist packet, share-coupon and credit packets) sets about helpers."""

BUDGET: tuple[Setting, ...] = (
    Setting("reward_budget.total_fen", "奖励总预算", "money", "奖励最多发放的总额；不设奖励可留空", optional=True),
    Setting("reward_budget.daily_fen", "每日奖励预算", "money", "每天最多发放的奖励；留空不限", optional=True),
)

HELPER_REWARD: tuple[Setting, ...] = (
    Setting("helper_reward_fen", "助力者奖励", "money", "每位助力好友得到的店铺余额；0 为不奖励"),
    *BUDGET,
    Setting("helper_gift.kind", "助力者赠送", "choice", "每位助力好友另得一张优惠券或一件赠品（免费下单）；不送可不选",
            choices=(("", "不送"), ("coupon", "优惠券"), ("goods", "赠品")), optional=True),
    Setting("helper_gift.coupon_template_id", "赠送的优惠券", "coupon", "赠送优惠券时选择", optional=True),
    Setting("helper_gift.product_id", "赠品商品", "product", "赠送赠品时选择", optional=True),
    Setting("helper_gift.sku_id", "赠品规格", "sku", "赠送赠品时选择", optional=True),
    Setting("helper_gift.stock", "赠送总数", "int", "本活动最多送出的份数，送完即止（优惠券另受券库存限制）", "份",
            optional=True),
)

SPLIT = (("line_segment", "随机（线段切割）"), ("double_mean", "随机（二倍均值）"), ("", "平均分配"))

PACKET: tuple[Setting, ...] = (
    Setting("template_id", "发放的优惠券", "coupon", "每一份发放这张券（门槛、有效期、适用范围以券为准），须为满减券"),
    Setting("slots", "每个券包份数", "int", "一个券包可被领取的份数", "份"),
    Setting("total_fen", "每个券包总金额", "money", "各份金额之和恰好等于此数"),
    Setting("split", "拆分方式", "choice", "每份金额随机或平均，创建券包时即拆好", choices=SPLIT),
    Setting("min_fen", "每份最低金额", "money", "随机拆分时每份至少这么多"),
    Setting("max_fen", "每份最高金额", "money", "随机拆分时每份至多这么多；留空不限", optional=True),
    Setting("min_order_fen", "获得券包的最低实付", "money", "实付低于此金额的订单不送券包；0 为不限"),
    Setting("duration_hours", "券包有效时长", "duration", "券包生成后可被领取的时长", "hours"),
    Setting("sharer_reward_after", "分享者奖励所需好友数", "int",
            "这么多好友领取后，分享者得到奖励；留空为不奖励", "人", optional=True),
    Setting("sharer_reward_fen", "分享者奖励", "money", "好友领取达到人数后分享者得到的余额；须同时设奖励预算"),
    *BUDGET,
    *(s for s in HELP_RULES if s.name != "self_help"),
    Setting("self_help", "买家可领自己的券包", "bool", "下单的顾客可领取自己券包中的一份"),
)

PRODUCT = Setting("product_id", "活动商品", "product", "活动售卖的商品")
GROUP_SKU = (Setting("sku_id", "规格", "sku"), Setting("group_price_fen", "拼团价", "money"))


def _sku(hint: str) -> Setting:
    return Setting("sku_id", "商品规格", "sku", hint)


FORMS: dict[str, tuple[Setting, ...]] = {
    "group": (
        Setting("product_id", "活动商品", "product", "单一商品拼团售卖的商品；多商品拼团时选“不选”，在下方逐个列出商品",
                optional=True),
        Setting("skus", "参团规格与拼团价", "rows", "每个参加拼团的规格及其拼团价；拼团价须低于单独购买价",
                rows=3, optional=True, columns=GROUP_SKU),
        Setting("products", "多商品拼团（任选一款）", "rows",
                "团内每人任选其中一款商品及规格，按所选规格的拼团价付款，付款人数凑满即成团；至少两款，"
                "每款商品不重复，规格须属于该商品；用此项时上方活动商品与规格留空",
                rows=3, optional=True, columns=(Setting("product_id", "商品", "product"),
                                                Setting("skus", "规格与拼团价", "rows", rows=3, columns=GROUP_SKU))),
        Setting("group_size", "成团人数", "int", "付款人数达到此数即成团", "人"),
        Setting("fill_minutes", "成团时限", "duration", "从团长付款起，在这段时间内凑齐人数", "minutes"),
        Setting("per_customer_limit", "每人限参团次数", "int", "一位顾客在本活动最多持有的拼团订单数", "次"),
        Setting("leader_discount_fen", "团长优惠", "money", "团长在拼团价上再减这么多（团长价）；0 为无"),
        Setting("new_customers_only", "仅限新客参团", "bool", "老带新：除团长外，参团者须从未在本店付款"),
        Setting("listed", "公开凑团", "bool", "未满的团展示给其他顾客一起凑"),
        Setting("auto_complete_min_paid", "到期自动成团人数", "int",
                "到期时付款人数达到此数即按原价成团；留空为不自动成团", "人", optional=True),
        Setting("tiers", "阶梯价", "rows",
                "人数越多越便宜：到期时按达到的最大阶梯计价，差价退回（仅限单一规格）", rows=3, optional=True,
                 columns=(Setting("size", "人数", "int"), Setting("price_fen", "每人价格", "money"))),
        Setting("race_loser", "团满后付款的处理", "choice", "付款时团已满或已关闭",
                choices=(("new_group", "自动开新团，付款人任团长"), ("refund", "全额退款"))),
        Setting("leader_commission_bp", "团长佣金", "int",
                "成团后团长按其他成员实付的比例得佣金，以基点计：100 基点即 1%", "基点"),
        Setting("deposit_percent", "定金比例", "int", "参团先付价格的这一比例，成团后付尾款；留空为全款参团", "%",
                optional=True),
        Setting("balance_hours", "尾款支付时限", "duration", "成团后在这段时间内付清尾款", "hours"),
        Setting("deposit_on_lapse", "未付尾款时定金", "choice", "定金不退须事先公示，且比例不超过 20%",
                choices=(("refund", "退还"), ("forfeit", "不退"))),
        Setting("payment_options", "付款方式", "choice",
                "只收全款、只收定金，或由顾客下单时选择定金或全款；收定金须填定金比例",
                choices=(("", "按定金比例：填了只收定金，未填只收全款"), ("full_only", "只收全款"),
                         ("deposit_only", "只收定金"), ("shopper_chooses", "顾客自选定金或全款"))),
    ),
    "bargain": (
        PRODUCT,
        _sku("砍价售卖的规格"),
        Setting("start_price_fen", "起始价", "money", "砍价开始时的价格，不得高于商品实际售价"),
        Setting("floor_price_fen", "底价", "money", "砍到最低的价格，可为 0（砍到免费）"),
        Setting("self_cut_percent", "发起人自砍比例", "int", "发起人先砍掉（起始价 − 底价）的这一比例", "%"),
        Setting("helps_needed", "砍到底价所需好友数", "int", "恰好这么多位好友砍完即到底价", "人"),
        Setting("duration_minutes", "砍价时限", "duration", "发起后在这段时间内完成", "minutes"),
        Setting("buy_at", "购买方式", "choice", "随时按当前价购买，或砍到底价才能购买",
                choices=(("current", "随时按当前价购买"), ("floor", "砍到底价才能购买"))),
        Setting("per_customer_limit", "每人可发起次数", "int", "一位顾客在本活动最多发起的砍价数", "次"),
        Setting("new_helper_bonus_fen", "新人助力额外砍", "money", "从未在本店购买的好友额外多砍这么多（不低于底价）"),
        *HELPER_REWARD,
        *HELP_RULES,
    ),
    "assist": (
        Setting("helpers_needed", "拆开所需好友数", "int", "这么多位好友助力后红包拆开", "人"),
        Setting("pool_fen", "奖池总额", "money", "以店铺余额发放，绝不超发"),
        Setting("winners", "奖品份数", "int", "奖池拆成这么多份", "份"),
        Setting("split", "拆分方式", "choice", "每份奖励随机或平均，活动上线时即拆好", choices=SPLIT),
        Setting("min_prize_fen", "每份最低金额", "money", "随机拆分时每份至少这么多"),
        Setting("win_percent", "中奖概率", "int", "拆开的红包在奖品未发完时中奖的概率", "%"),
        Setting("duration_minutes", "红包有效时长", "duration", "发起后在这段时间内邀请好友助力", "minutes"),
        Setting("per_customer_limit", "每人可拆红包数", "int", "一位顾客在本活动最多拆的红包数", "个"),
        Setting("ladder", "越拆越多阶梯", "rows",
                "第 n 行是顾客拆开的第 n 个红包的奖励，最后一行用于之后每一个；余额在最低与最高之间随机（相同即固定），"
                "从奖池支付；优惠券、赠品各按其数量送完即止；奖励留空即店铺余额。设置后不再按拆分方式预先拆分奖池，奖品份数为全活动总上限",
                rows=3, optional=True, columns=(
                    Setting("kind", "奖励", "choice", choices=(("credit", "店铺余额"), ("coupon", "优惠券"),
                                                                ("goods", "赠品"))),
                    Setting("min_fen", "最低", "money", optional=True),
                    Setting("max_fen", "最高", "money", optional=True),
                    Setting("coupon_template_id", "优惠券", "coupon", optional=True),
                    Setting("product_id", "赠品", "product", optional=True),
                    Setting("sku_id", "赠品规格", "sku", optional=True),
                    Setting("stock", "数量", "int", optional=True))),
        *HELPER_REWARD,
        *HELP_RULES,
    ),
    "share_coupon": PACKET,
    "credit": PACKET,
    "gift": (
        PRODUCT,
        _sku("礼券兑换的规格；其库存即礼券库存"),
        Setting("price_fen", "礼券售价", "money", "顾客购买礼券支付的金额"),
        Setting("value_fen", "礼券面值", "money", "线上兑换时抵扣的金额；不记名最多 1000 元，记名最多 5000 元"),
        Setting("named", "记名礼券", "bool", "记名礼券归持有人所有；不记名礼券可转手"),
        Setting("valid_days", "有效期", "duration", "购买后可用的时长；不记名礼券至少三年", "days"),
        Setting("claim_days", "赠送领取期限", "duration", "赠送后好友在此期限内未领取即退回", "days"),
        Setting("per_customer_limit", "每人限购", "int", "一位顾客最多购买的礼券数", "张"),
    ),
    "invite": (
        Setting("reward_on", "奖励条件", "choice", "好友做到什么邀请人才得奖励（分享本身不奖励）",
                choices=(("first_purchase", "好友首次下单付款"), ("register", "好友注册成为新顾客"))),
        Setting("reward_fen", "每位好友奖励", "money", "邀请人每成功邀请一位好友得到的店铺余额"),
        Setting("max_friends", "奖励人数上限", "int", "一位邀请人最多因多少位好友得到奖励", "人"),
        Setting("budget.total_fen", "奖励总预算", "money", "本活动最多发放的奖励总额"),
        Setting("budget.daily_fen", "每日奖励预算", "money", "每天最多发放的奖励；留空不限", optional=True),
    ),
    "points_mall": (
        Setting("reward", "兑换内容", "choice", "兑换商品（发货）或优惠券",
                choices=(("goods", "商品"), ("coupon", "优惠券"))),
        Setting("points", "所需积分", "int", "兑换一次扣除的积分", "分"),
        Setting("cash_fen", "另付现金", "money", "积分 + 现金兑换商品时另付的金额（仅限商品）；0 为纯积分"),
        Setting("product_id", "兑换商品", "product", "兑换商品时选择", optional=True),
        Setting("sku_id", "商品规格", "sku", "兑换商品时选择", optional=True),
        Setting("coupon_template_id", "兑换的优惠券", "coupon", "兑换优惠券时选择", optional=True),
        Setting("per_customer_limit", "每人限兑", "int", "一位顾客最多兑换的次数", "次"),
    ),
}
"""Every kind the campaigns section creates (tasks are set up with loyalty), in menu order."""


def defaults(model: type[BaseModel]) -> dict[str, Any]:
    """The settings a new campaign of the kind starts from: every field's default (nested ones too)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        value = info.get_default(call_default_factory=True)
        out[name] = value.model_dump() if isinstance(value, BaseModel) else value
    return out


def value_at(settings: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (None when any step is missing)."""
    at: Any = settings
    for key in path.split("."):
        if not isinstance(at, dict):
            return None
        at = at.get(key)
    return at


def covered(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every setting a complete form must offer: the model's fields, nested models' fields by dotted path (a list of
    records counts as one field, drawn as rows)."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        nested = _model_in(info.annotation)
        if nested is not None:
            names |= covered(nested, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds directly or optionally (Budget, Budget | None), not in a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and getattr(annotation, "__origin__", None) is not list:
            return arg
    return None
