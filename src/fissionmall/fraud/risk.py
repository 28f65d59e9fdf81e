"""The risk check (COMPLIANCE F4) consulted before anything of cash value is granted.

A `RiskChecker` ranks an actor from 0 (no risk) to 4 (certain fraud), the scale of WeChat's
`getUserRiskRank`. Campaigns publish what a high rank (≥ HIGH_RISK) gets: the minimum prize, or none.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from fissionmall.core.runtime import Runtime
from fissionmall.fraud.schemas import Actor

HIGH_RISK = 3
STALE_TOKEN = {40001, 40014, 42001}
"""WeChat's answers for an access token that is invalid or expired."""
YOUNG_ACCOUNT = timedelta(minutes=10)


class RiskChecker(Protocol):
    async def rank(self, runtime: Runtime, actor: Actor) -> int: ...


class RulesRiskChecker:
    """The default, with no outside service: an account minutes old acting from no identifiable device is
    what a farm looks like; either alone is only a mild signal."""

    async def rank(self, runtime: Runtime, actor: Actor) -> int:
        young = runtime.clock.now() - actor.created_at < YOUNG_ACCOUNT
        anonymous = not actor.device_id
        return 3 if young and anonymous else 1 if young or anonymous else 0


class WeChatRiskChecker:
    """WeChat's user risk rank for a mini-program (`/wxa/getuserriskrank`, scene 1: marketing), with the
    access token cached per app. If WeChat cannot answer, the rules decide, so a campaign never stalls."""

    def __init__(self, appid: str, secret: str, fallback: RiskChecker | None = None) -> None:
        self.appid, self.secret = appid, secret
        self.fallback = fallback or RulesRiskChecker()
        self._token: tuple[str, datetime] | None = None

    async def _access_token(self, runtime: Runtime, client: httpx.AsyncClient, base: str) -> str:
        now = runtime.clock.now()
        if self._token and self._token[1] > now:
            return self._token[0]
        answer = (await client.get(f"{base}/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})).json()
        if not answer.get("access_token"):
            raise LookupError(f"no access token: {answer.get('errmsg', answer)}")
        lifetime = timedelta(seconds=int(answer.get("expires_in", 7200)) - 300)
        self._token = (str(answer["access_token"]), now + lifetime)
        return self._token[0]

    async def _ask(self, runtime: Runtime, client: httpx.AsyncClient, actor: Actor) -> dict[str, Any]:
        base = runtime.settings.wechat_api_base
        token = await self._access_token(runtime, client, base)
        answer: dict[str, Any] = (await client.post(f"{base}/wxa/getuserriskrank", params={"access_token": token},
                                                    json={"appid": self.appid, "openid": actor.openid, "scene": 1,
                                                          "client_ip": actor.ip or ""})).json()
        return answer

    async def rank(self, runtime: Runtime, actor: Actor) -> int:
        try:
            async with runtime.http_client() as client:
                answer = await self._ask(runtime, client, actor)
                if answer.get("errcode") in STALE_TOKEN:  # another process took a new token: fetch ours again
                    self._token = None
                    answer = await self._ask(runtime, client, actor)
            if answer.get("errcode", 0) != 0 or "risk_rank" not in answer:
                raise LookupError(f"risk rank refused: {answer.get('errmsg', answer)}")
            return max(0, min(4, int(answer["risk_rank"])))
        except (httpx.HTTPError, ValueError, LookupError) as exc:
            runtime.log.warning("risk_rank_unavailable", error=str(exc), customer_id=actor.customer_id)
            return await self.fallback.rank(runtime, actor)
