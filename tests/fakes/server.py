"""A small threaded loopback HTTP server that emulators build on, with fault injection.

Subclass `FakeService`, implement `handle(req) -> Reply`, then:

    with MyFake() as fake:            # starts on 127.0.0.1, a free port
        fake.url                      # "http://127.0.0.1:PORT"
        fake.fail_next(Fault.status(429, headers={"Retry-After": "2"}, body=b"..."))
        fake.fail_next(Fault.drop())          # close the connection without answering
        fake.fail_next(Fault.delay(3.0))      # answer normally after 3 s
        fake.requests                 # every Request received, in order

Faults apply to the next requests (one each) whose path matches `path` (a substring) if given.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return body, headers


@dataclass
class Fault:
    kind: str  # "reply", "drop", "delay"
    reply: Reply | None = None
    seconds: float = 0.0
    path: str | None = None

    @classmethod
    def status(
        cls,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any] = b"",
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> Fault:
        return cls("reply", Reply(status, body, headers or {}), path=path)

    @classmethod
    def drop(cls, path: str | None = None) -> Fault:
        return cls("drop", path=path)

    @classmethod
    def delay(cls, seconds: float, path: str | None = None) -> Fault:
        return cls("delay", seconds=seconds, path=path)


class FakeService:
    """Base of every emulator: threading, request log, fault queue."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.latency = 0.0  # seconds added to every answer
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else kept-alive answers wait ~40 ms for an ACK

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with service.lock:
                    service.requests.append(req)
                    fault = service._take_fault(req.path)
                if service.latency:
                    time.sleep(service.latency)
                if fault and fault.kind == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault and fault.kind == "delay":
                    time.sleep(fault.seconds)
                    fault = None
                reply = fault.reply if fault and fault.reply else service.dispatch(req)
                data, headers = reply.encoded()
                self.send_response(reply.status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that hang up on purpose (timeouts, drops) are not errors

        self.server = Server((host, port), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults
    def fail_next(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def _take_fault(self, path: str) -> Fault | None:
        for i, f in enumerate(self.faults):
            if f.path is None or f.path in path:
                return self.faults.pop(i)
        return None

    def dispatch(self, req: Request) -> Reply:
        try:
            return self.handle(req)
        except Exception as e:  # an emulator bug shows as a 500 the test will notice
            return Reply(500, {"error": f"emulator error: {type(e).__name__}: {e}"})

    def handle(self, req: Request) -> Reply:
        raise NotImplementedError

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()
