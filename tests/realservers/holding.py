"""A loopback HTTP proxy in front of a real server that forwards every request and, for the
first request `holds(method, path)` picks, forwards it but never answers (until released): the
worker can then be killed after the server acted and before the worker heard of it."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class HoldingProxy:
    def __init__(self, upstream: str, holds: Callable[[str, str], bool]) -> None:
        self.upstream = urlsplit(upstream)
        self.holds = holds
        self.forwarded = threading.Event()  # the held request reached the server, was answered
        self.release = threading.Event()
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request forwarded
        self.hold = True
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=30
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "keep-alive")
                }
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                proxy.seen.append((self.command, self.path))
                if proxy.hold and proxy.holds(self.command, self.path):
                    proxy.hold = False
                    proxy.forwarded.set()
                    proxy.release.wait(60)  # the worker is killed meanwhile
                    return
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HoldingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
