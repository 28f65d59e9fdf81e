"""Kuaidi100 as recorded: the account's credentials, the bodies it sends (two pushes of one parcel: in transit, then
signed for) and answers (a real-time query, subscriptions accepted, repeated and refused), each signed as Kuaidi100
signs, with the signature written down rather than computed here, so a wrong scheme in the provider fails the tests.

Shapes as documented at api.kuaidi100.com (订阅 /poll, 推送 to the callback, 实时查询 /poll/query.do)."""

from __future__ import annotations

from urllib.parse import urlencode

KEY = "kKSQxPDo7654"
CUSTOMER = "FA7B3E7C1D2C4A5B9E8F0A1B2C3D4E5F"
SALT = "k100-salt-Qm7v2Lx9"
CARRIER, NUMBER, PHONE = "yuantong", "YT7455312867093", "13800138000"

PUSH_SIGNED_FOR = (
    '{"status":"shutdown","billstatus":"check","message":"","autoCheck":"0","comOld":"","comNew":"","lastResult":'
    '{"message":"ok","state":"3","status":"200","condition":"F00","ischeck":"1","com":"yuantong",'
    '"nu":"YT7455312867093","data":[{"context":"您的快件已签收，签收人：本人。如有疑问请联系派件员13900001111",'
    '"time":"2026-12-05 14:21:08","ftime":"2026-12-05 14:21:08","areaCode":"CN310106000000",'
    '"areaName":"上海,上海市,静安区","status":"签收"},{"context":"【上海市静安区南京西路公司】派件员：王师傅 '
    '13900001111 正在为您派件","time":"2026-12-05 08:02:41","ftime":"2026-12-05 08:02:41",'
    '"areaCode":"CN310106000000","areaName":"上海,上海市,静安区","status":"派件"},{"context":"快件已到达【上海转运中心】",'
    '"time":"2026-12-04 21:40:15","ftime":"2026-12-04 21:40:15","areaCode":"CN310000000000","areaName":"上海",'
    '"status":"在途"},{"context":"【浙江省杭州市萧山区公司】已揽收","time":"2026-12-04 10:12:33",'
    '"ftime":"2026-12-04 10:12:33","areaCode":"CN330109000000","areaName":"浙江,杭州市,萧山区","status":"揽收"}]}}'
)
PUSH_SIGNED_FOR_SIGN = "33CC8F0BE5407DC9F77B747A5AEF792A"

PUSH_IN_TRANSIT = (
    '{"status":"polling","billstatus":"sending","message":"","autoCheck":"0","comOld":"","comNew":"","lastResult":'
    '{"message":"ok","state":"0","status":"200","condition":"F00","ischeck":"0","com":"yuantong",'
    '"nu":"YT7455312867093","data":[{"context":"快件已到达【上海转运中心】","time":"2026-12-04 21:40:15",'
    '"ftime":"2026-12-04 21:40:15","areaCode":"CN310000000000","areaName":"上海","status":"在途"},'
    '{"context":"【浙江省杭州市萧山区公司】已揽收","time":"2026-12-04 10:12:33","ftime":"2026-12-04 10:12:33",'
    '"areaCode":"CN330109000000","areaName":"浙江,杭州市,萧山区","status":"揽收"}]}}'
)
PUSH_IN_TRANSIT_SIGN = "C2B45F420690A168C155B4BF161CF5E6"


def push_body(param: str, sign: str | None) -> bytes:
    """The push as it arrives: application/x-www-form-urlencoded, `param` then `sign`."""
    return urlencode({"param": param} | ({} if sign is None else {"sign": sign})).encode()


QUERY_PARAM = '{"com":"yuantong","num":"YT7455312867093","phone":"13800138000","resultv2":"1"}'
QUERY_SIGN = "E61CA4839EB9AE7E09AD0A437D97BADC"
"""MD5(param + key + customer), upper case: the query the mall must send for this parcel."""
QUERY_ANSWER = {
    "message": "ok", "nu": NUMBER, "ischeck": "0", "condition": "F00", "com": CARRIER, "status": "200", "state": "0",
    "data": [
        {"time": "2026-12-04 21:40:15", "ftime": "2026-12-04 21:40:15", "context": "快件已到达【上海转运中心】",
         "areaCode": "CN310000000000", "areaName": "上海", "status": "在途"},
        {"time": "2026-12-04 10:12:33", "ftime": "2026-12-04 10:12:33", "context": "【浙江省杭州市萧山区公司】已揽收",
         "areaCode": "CN330109000000", "areaName": "浙江,杭州市,萧山区", "status": "揽收"},
    ],
}
QUERY_NOTHING_YET = {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
QUERY_BAD_KEY = {"result": False, "returnCode": "601", "message": "POLL:KEY已过期"}

SUBSCRIBED = {"result": True, "returnCode": "200", "message": "提交成功"}
SUBSCRIBED_BEFORE = {"result": False, "returnCode": "501", "message": "POLL:重复订阅"}
SUBSCRIPTION_REFUSED = {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误或错误的回调地址"}
