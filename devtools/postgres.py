"""A private PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` under a directory, on 127.0.0.1.

Standard library only, so ``.ci/services/postgres.sh`` can run it before any virtualenv exists:

    python3 devtools/postgres.py start     # prints the URI, then the cluster's directory
    python3 devtools/postgres.py stop DIR

As root (CI containers) the server runs as the ``postgres`` system user, which initdb requires; the
cluster's directory is then a fresh one under the system temp directory that this user can reach.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATABASE = "pack_test"
USER = "pack"


@dataclass(frozen=True)
class Cluster:
    """A running private cluster."""

    base: Path
    port: int

    @property
    def uri(self) -> str:
        """SQLAlchemy URI of the test database."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its files."""
        stop_cluster(self.base)


def find_binary(name: str) -> str | None:
    """A PostgreSQL server binary on PATH or in Debian's versioned directories."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *command]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(command)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_cluster() -> Cluster:
    """Create and start a cluster in a fresh temporary directory.

    Raises:
        RuntimeError: PostgreSQL is not installed or did not start.
    """
    initdb, pg_ctl, createdb = (find_binary(n) for n in ("initdb", "pg_ctl", "createdb"))
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    createdb = createdb or shutil.which("createdb")
    if not createdb:
        raise RuntimeError("createdb not found; apt-get install postgresql-client")
    base = Path(tempfile.mkdtemp(prefix="pack-postgres-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        for directory in (base, sockets):
            shutil.chown(directory, "postgres")
    port = _free_port()

    def run(command: list[str]) -> None:
        done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    run([initdb, "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-instructions"])
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "server.log"), "-w", "-t", "60", "start"])
    (base / "port").write_text(str(port))
    run([createdb, "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE])
    return Cluster(base, port)


def stop_cluster(base: Path) -> None:
    """Stop the cluster under ``base`` if it runs."""
    pg_ctl = find_binary("pg_ctl")
    data = base.absolute() / "data"
    if pg_ctl and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True, check=False
        )
    shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str]) -> int:
    """``start`` (prints the URI and the directory) or ``stop DIR``."""
    if argv == ["start"]:
        cluster = start_cluster()
        print(cluster.uri)
        print(cluster.base)
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        stop_cluster(Path(argv[1]))
        return 0
    print("usage: postgres.py start | postgres.py stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
