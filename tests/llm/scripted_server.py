"""A scripted OpenAI-compatible server on loopback for the model failure modes.

``behaviour`` decides each reply: "agree" answers every schema with the first option and a
quote taken from the prompt (a well-behaved model), "affirm" also reads every qualified mention as
present, "bad_quote" cites words not in the text,
"sleep" never answers in time, "http500", "junk" (not JSON), "wrong_schema" (JSON of another
shape), "slow_stream" (valid JSON dribbled one byte at a time, slower than the timeout).
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _answer_for(schema: dict, user: str, bad_quote: bool, affirm: bool = False) -> dict:
    """A valid answer to one of ChartCoder's answer schemas, built from the prompt."""
    props = schema.get("properties", {})
    defs = schema.get("$defs", {})
    quoted = re.search(r'(?:Mention|原始诊断)[:：]\s*["“]([^"”]+)["”]', user)
    quote = "zebra unicorn" if bad_quote else (quoted.group(1) if quoted else "")
    if "choices" in props:
        choice = next(iter(defs.values()))
        first = choice["properties"]["option"]["enum"][0]
        return {"choices": [{"option": first, "evidence": quote}]}
    if "drop" in props:
        return {"drop": []}
    if "principal" in props:
        enum = props["principal"]["enum"]
        return {"principal": enum[-1], "reason": "scripted"}
    if "status" in props:
        letters = props["status"]["enum"]
        if affirm:  # a reader that finds the condition present
            letters = [m.group(1) for m in re.finditer(r"^([A-Z])\. affirmed", user, re.M)] or letters
        return {"status": letters[0], "evidence": quote}
    if "option" in props:
        return {"option": props["option"].get("enum", ["A"])[0], "evidence": quote}
    return {}


class ScriptedServer:
    """Start with ``with ScriptedServer("agree") as url: ...``; ``requests`` counts calls."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests = 0
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                owner.requests += 1
                owner.bodies.append(body)
                b = owner.behaviour
                if b == "sleep":
                    time.sleep(3)
                if b == "http500":
                    self._send(500, b'{"error": "boom"}')
                    return
                if b == "junk":
                    self._send(200, b"<html>this is not json</html>")
                    return
                if b == "wrong_schema":
                    content = json.dumps({"codes": ["I10"]})
                else:
                    schema = body["response_format"]["json_schema"]["schema"]
                    content = json.dumps(_answer_for(schema, body["messages"][-1]["content"], b == "bad_quote",
                                                     b == "affirm"))
                reply = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}],
                                    "usage": {"prompt_tokens": 10, "completion_tokens": 5}}).encode()
                if b == "slow_stream":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    for i in range(len(reply)):
                        try:
                            self.wfile.write(reply[i : i + 1])
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.05)
                    return
                self._send(200, reply)

            def _send(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
