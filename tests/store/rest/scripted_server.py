"""A misbehaving HTTP server for the REST client's tests (run as a script: ``python scripted_server.py PORT``).

Paths:
    /fail/<n>/<status>[/<retry-after>]  the first n requests answer ``status`` (an MLflow-style JSON error),
                                        later ones 200 ``{"attempt": k}``
    /drop/<n>                           the first n requests get the connection closed without an answer
    /slow/<seconds>                     answers after sleeping
    /error/<status>/<error_code>        a JSON error; ``/error/<status>/-`` has no error code, HTML body
    /echo                               the request: method, path, query, headers, body length and text
    /count/<path...>                    how many requests ``/<path...>`` has had
    /last                               what the previous ``/echo`` request carried
    /api/2.0/mlflow-artifacts/artifacts?path=<dir>
                                        a listing: ``.../big`` holds ``<n>mb.bin`` files, anything else
                                        names a file outside the listed directory
    /api/2.0/mlflow-artifacts/artifacts/<dir>/<n>mb.bin
                                        GET streams n MiB; PUT reads the body in chunks and discards it
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
COUNTS: Counter[str] = Counter()
LAST: dict[str, object] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        content_type = "text/html" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, mebibytes: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(mebibytes << 20))
        self.end_headers()
        chunk = b"\0" * (1 << 20)
        for _ in range(mebibytes):
            self.wfile.write(chunk)

    def _discard(self, length: int) -> int:
        received = 0
        while received < length:
            received += len(self.rfile.read(min(1 << 20, length - received)))
        return received

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if url.path.startswith(f"{PROXY}/") and url.path.endswith("mb.bin"):
            if self.command == "PUT":
                self._answer(200, {"received": self._discard(length)})
            else:
                self._stream(int(url.path.rsplit("/", 1)[1].removesuffix("mb.bin")))
            return
        body = self.rfile.read(length) if length else b""
        parts = url.path.strip("/").split("/")
        with LOCK:
            COUNTS[url.path] += 1
            attempt = COUNTS[url.path]
        kind = parts[0]
        if kind == "fail":
            failures, status = int(parts[1]), int(parts[2])
            if attempt <= failures:
                headers = {"Retry-After": parts[3]} if len(parts) > 3 else None
                self._answer(status, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}, headers)
            else:
                self._answer(200, {"attempt": attempt})
        elif kind == "drop":
            if attempt <= int(parts[1]):
                self.close_connection = True
                self.connection.close()
                return
            self._answer(200, {"attempt": attempt})
        elif kind == "slow":
            time.sleep(float(parts[1]))
            self._answer(200, {"attempt": attempt})
        elif kind == "error":
            status, code = int(parts[1]), parts[2]
            if code == "-":
                self._answer(status, "<html><body>Not Found</body></html>")
            else:
                self._answer(status, {"error_code": code, "message": f"server says {code}"})
        elif kind == "echo":
            echoed = {
                "method": self.command,
                "path": url.path,
                "query": parse_qs(url.query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "length": len(body),
                "body": body.decode(errors="replace")[:2000],
            }
            with LOCK:
                LAST.clear()
                LAST.update(echoed)
            self._answer(200, echoed)
        elif kind == "last":
            with LOCK:
                self._answer(200, dict(LAST))
        elif kind == "count":
            with LOCK:
                self._answer(200, {"count": COUNTS["/" + "/".join(parts[1:])]})
        elif url.path == PROXY:
            listed = parse_qs(url.query)["path"][0]
            if listed.endswith("/big"):
                files = [{"path": f"{n}mb.bin", "is_dir": False, "file_size": n << 20} for n in (256,)]
            else:
                files = [{"path": "../../escaped.txt", "is_dir": False, "file_size": 3}]
            self._answer(200, {"files": files})
        else:
            self._answer(404, "<html>no such path</html>")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()
