"""A local stand-in for WeChat's sign-in APIs, for the tests of both sign-ins (mini-program and web pages)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

APPID = "wx0123456789abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
CODES = {"code-alice": "o-alice", "code-alice-again": "o-alice", "code-bob": "o-bob"}
"""Login codes the stand-in accepts, and the openid each belongs to."""


CODE_PARAMETER = {"/sns/jscode2session": "js_code", "/sns/oauth2/access_token": "code"}


class WechatStandIn:
    """Answers like https://api.weixin.qq.com's two code exchanges, the mini-program's (/sns/jscode2session, the code
    in `js_code`) and the official account's web authorization (/sns/oauth2/access_token, the code in `code`), and
    records what it was asked. Both take the same credentials here."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query))
                stand_in.requests.append(query)
                code = query.get(CODE_PARAMETER.get(url.path, ""))
                if url.path not in CODE_PARAMETER:
                    self._send(404, {"errcode": -1, "errmsg": "no such api"})
                elif query.get("appid") != APPID or query.get("secret") != SECRET:
                    self._send(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
                elif query.get("grant_type") != "authorization_code":
                    self._send(200, {"errcode": 40002, "errmsg": "invalid grant_type"})
                elif code in CODES:
                    openid = CODES[code]
                    self._send(200, {"openid": openid, "session_key": "c2Vzc2lvbi1rZXk=", "unionid": f"u-{openid}"})
                else:
                    self._send(200, {"errcode": 40029, "errmsg": "invalid code"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
