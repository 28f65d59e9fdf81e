"""Pure invite rules: the published text."""

from __future__ import annotations

from fissionmall.campaigns.invites.schemas import InviteSettings
from fissionmall.core.money import yuan

DEEDS = {"register": "注册成为新用户", "first_purchase": "完成首单支付"}
"""What the invited friend must do for the inviter to be rewarded, in the shopper's words."""


def describe(settings: InviteSettings) -> list[str]:
    deed = DEEDS[settings.reward_on]
    return [f"好友通过你的邀请链接{deed}，你获得 ¥{yuan(settings.reward_fen)} 店铺余额，"
            f"最多 {settings.max_friends} 位好友。",
            "仅分享不计奖励；同一设备的重复账户、风控判定的高风险账户不计入。",
            "奖励预算有限，发完即止。"]
