"""A PostgreSQL server for the test session, wherever one can be had.

In order: `TEST_DATABASE_URL`; a testcontainers container if a Docker engine answers;
a throwaway cluster from the local PostgreSQL binaries (initdb/pg_ctl). If none works
the session fails: integration tests are never skipped for want of a database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


class PostgresUnavailable(RuntimeError):
    pass


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an asyncpg URL (`postgresql+asyncpg://...`) to a server's maintenance DB."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield asyncpg_url(url)
        return
    attempts: list[str] = []
    if _docker_answers():
        try:
            with _container() as url:
                yield url
            return
        except PostgresUnavailable as error:
            attempts.append(f"testcontainers: {error}")
    else:
        attempts.append("testcontainers: no Docker engine answers")
    try:
        cluster = LocalCluster.start()
    except PostgresUnavailable as error:
        attempts.append(f"local binaries: {error}")
        raise PostgresUnavailable(
            "No PostgreSQL for the integration tests. Set TEST_DATABASE_URL, start Docker, "
            "or install the PostgreSQL server binaries (initdb, pg_ctl). Tried: "
            + "; ".join(attempts)
        ) from error
    try:
        yield cluster.url
    finally:
        cluster.stop()


def asyncpg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def random_database_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def _container() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    try:
        container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
        container.start()
    except Exception as error:
        raise PostgresUnavailable(str(error)) from error
    try:
        yield asyncpg_url(container.get_connection_url())
    finally:
        container.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _find_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    candidates += sorted(glob.glob(f"/usr/local/pgsql/bin/{name}"))
    if not candidates:
        raise PostgresUnavailable(f"{name} is not on PATH nor under /usr/lib/postgresql/*/bin")
    return candidates[0]


class LocalCluster:
    """A cluster in a temporary directory, listening on a free loopback port.

    As root, initdb refuses to run, so the cluster belongs to the `postgres` OS user.
    Durability is off (fsync, synchronous_commit): the data dies with the session.
    """

    def __init__(self, root: Path, pg_ctl: str, as_user: list[str], port: int) -> None:
        self.root, self._pg_ctl, self._as_user, self.port = root, pg_ctl, as_user, port
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    @classmethod
    def start(cls) -> LocalCluster:
        initdb, pg_ctl = _find_binary("initdb"), _find_binary("pg_ctl")
        root = Path(tempfile.mkdtemp(prefix="frontdesk-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root and runuser is missing")
            as_user = [runuser, "-u", "postgres", "--"]
            shutil.chown(root, user="postgres")
        data = root / "data"
        cluster = cls(root, pg_ctl, as_user, _free_port())
        try:
            cluster._run(
                initdb,
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            )
            options = (
                f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            cluster._run(
                pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"
            )
        except PostgresUnavailable:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    def _run(self, *command: str) -> None:
        try:
            subprocess.run(
                [*self._as_user, *command], check=True, capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", "") or ""
            log = self.root / "log"
            if log.exists():
                detail += log.read_text()[-2000:]
            raise PostgresUnavailable(
                f"{' '.join(command[:1])} failed: {error} {detail}"
            ) from error

    def stop(self) -> None:
        try:
            self._run(self._pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
