"""An image registry for tests and benchmarks: Debian's ``docker-registry`` (the reference registry) on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}/data
  delete:
    enabled: true
http:
  addr: {address}
"""
AUTH = """\
auth:
  htpasswd:
    realm: pack-test
    path: {htpasswd}
"""


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file (the registry accepts no other), from the C library's crypt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


@dataclass
class Registry:
    """A running registry: ``address`` is ``127.0.0.1:PORT``."""

    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def answers(address: str) -> bool:
    """True when a registry answers on ``address`` (401 counts: it asks for credentials)."""
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=2):
            return True
    except urllib.error.HTTPError as error:
        error.close()
        return error.code == 401
    except (urllib.error.URLError, OSError):
        return False


def start_registry(root: Path, users: dict[str, str] | None = None) -> Registry:
    """Start ``docker-registry serve`` on a free loopback port, storing under ``root``.

    Raises:
        FileNotFoundError: docker-registry is not installed.
        RuntimeError: it did not start.
    """
    exe = shutil.which("docker-registry")
    if exe is None:
        raise FileNotFoundError("docker-registry is not installed (apt-get install docker-registry)")
    root.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    config = CONFIG.format(root=root, address=address)
    if users:
        htpasswd = root / "htpasswd"
        htpasswd.write_text("".join(f"{user}:{bcrypt_hash(password)}\n" for user, password in users.items()))
        config += AUTH.format(htpasswd=htpasswd)
    (root / "config.yml").write_text(config)
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen([exe, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not answers(address):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"docker-registry did not start:\n{(root / 'registry.log').read_text()[-2000:]}")
        time.sleep(0.1)
    return Registry(address, process)


def tags(address: str, repository: str) -> list[str]:
    """The tags of ``repository`` in an open registry."""
    import json

    with urllib.request.urlopen(f"http://{address}/v2/{repository}/tags/list", timeout=10) as response:
        found: list[str] = json.loads(response.read()).get("tags") or []
        return found
