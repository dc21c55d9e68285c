"""The front of a Docker deployment: one published port whose traffic moves between model containers.

Runs as the entry point of the deployment's proxy container, from the model's own image
(``python3 -m pack.deploy.proxy serve --target pack-rf.1:8080``); the forwarding itself is
``pack.deploy.forwarding``. The other commands are run inside the container with ``docker exec``:
the target changes only through the proxy's Unix socket, never over the network.

    serve --target HOST:PORT    run the proxy (SIGTERM lets requests in flight finish, exit 0)
    switch HOST:PORT            send new requests there; answers once the old target's have finished
    probe HOST:PORT             exit 0 when a model server there answers ready
    status                      the current target and the requests in flight
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import urllib.error
import urllib.request
from typing import Any

from pack.deploy.forwarding import STATE_DIR, Proxy, check_target

READY_PATH = "/v2/health/ready"


def serve(
    target: str, *, host: str, port: int, max_body_mb: float, timeout: float, drain: float, concurrency: int
) -> None:
    """Run the proxy on ``host:port`` until SIGTERM (which lets requests in flight finish)."""
    import uvicorn

    app = Proxy(target, int(max_body_mb * 1024 * 1024), timeout)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=30,
        limit_concurrency=concurrency,
        timeout_graceful_shutdown=max(1, round(drain)),
    )
    # uvicorn raises the stop signal again once it has drained; taking it here makes the exit code 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(config).run()


def admin(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Send one request to the running proxy's admin socket; return its answer."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(STATE_DIR / "admin.sock"))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data or b"{}")
    return answer


def probe(target: str, path: str = READY_PATH) -> bool:
    """True when ``http://target{path}`` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(f"http://{target}{path}", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m pack.deploy.proxy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the proxy")
    run.add_argument("--target", required=True)
    run.add_argument("--host", default="0.0.0.0")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument("--max-body-mb", type=float, default=64.0)
    run.add_argument("--timeout", type=float, default=300.0)
    run.add_argument("--drain", type=float, default=30.0)
    run.add_argument("--concurrency", type=int, default=1024)
    switch = commands.add_parser("switch", help="send new requests to HOST:PORT, wait for the old ones")
    switch.add_argument("target")
    switch.add_argument("--drain", type=float, default=30.0)
    check = commands.add_parser("probe", help="exit 0 when HOST:PORT is ready")
    check.add_argument("target")
    commands.add_parser("status", help="the current target and requests in flight")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(
            args.target,
            host=args.host,
            port=args.port,
            max_body_mb=args.max_body_mb,
            timeout=args.timeout,
            drain=args.drain,
            concurrency=args.concurrency,
        )
        return 0
    if args.command == "probe":
        return 0 if probe(check_target(args.target)) else 1
    request = {"op": "switch", "target": args.target, "drain": args.drain} if args.command == "switch" else {}
    answer = admin(request, timeout=(args.drain + 10) if args.command == "switch" else 10)
    sys.stdout.write(json.dumps(answer) + "\n")
    return 1 if "error" in answer else 0


if __name__ == "__main__":
    sys.exit(main())
