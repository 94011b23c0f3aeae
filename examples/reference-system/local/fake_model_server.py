"""A deterministic OpenAI-compatible chat-completions server for local runs
and tests: it answers every question with a fixed sentence that names the
question, checks the bearer token, and can be told to be slow.

    python3 fake_model_server.py --port 8089 --api-key test-key [--delay 10]

POST /v1/chat/completions with {"model", "messages"} →
    {"choices": [{"message": {"role": "assistant", "content": "..."}}], ...}
A question containing "slow" is answered after --slow-seconds (default 30),
so callers can exercise their timeout.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def reply_for(question):
    return "The answer to '%s' is forty-two." % question.strip().rstrip("?")


def make_handler(api_key, slow_seconds):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_json(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up waiting, as a timeout test wants

        def do_POST(self):
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self.send_json(404, {"error": {"message": "no such route"}})
            if self.headers.get("authorization") != "Bearer " + api_key:
                return self.send_json(401, {"error": {"message": "invalid api key"}})
            length = int(self.headers.get("content-length") or 0)
            try:
                request = json.loads(self.rfile.read(length))
                question = [m for m in request["messages"] if m.get("role") == "user"][-1]["content"]
            except (ValueError, KeyError, IndexError):
                return self.send_json(400, {"error": {"message": "bad request"}})
            if "slow" in question.lower():
                time.sleep(slow_seconds)
            self.send_json(200, {
                "id": "chatcmpl-local",
                "object": "chat.completion",
                "model": request.get("model", ""),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply_for(question)}}],
            })

    return Handler


def serve(port, api_key, slow_seconds=30.0):
    """Starts the server on 127.0.0.1 in a thread; returns it (port 0 = any)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(api_key, slow_seconds))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--slow-seconds", type=float, default=30.0)
    args = parser.parse_args()
    server = serve(args.port, args.api_key, args.slow_seconds)
    print("listening on http://127.0.0.1:%d/v1" % server.server_address[1], flush=True)
    threading.Event().wait()
