"""Servers the HTTP benchmarks start on loopback: Stepwise under uvicorn, a bare FastAPI app,
SMTP sinks, and a small keep-alive HTTP client (no traffic leaves 127.0.0.1)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from bench.common import PROJECT

HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stepwise_env(db_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a Stepwise process on a scratch database (scheduler off unless set)."""
    env = dict(os.environ)
    env.update({
        "STEPWISE_DATABASE_URL": db_url,
        "STEPWISE_SECRET_KEY": "bench-secret-key-for-signed-cookies-only-0123456789",
        "STEPWISE_VAR_DIR": str(var_dir),
        "STEPWISE_SCHEDULER_ENABLED": "false",
        "STEPWISE_ENVIRONMENT": "production",
        "STEPWISE_BASE_URL": f"http://{HOST}:8000",
        "STEPWISE_RATE_LIMIT_SIGN_IN_PER_MINUTE": "100000",
        # production refuses to start without an audit key (a throwaway one for the scratch db)
        "STEPWISE_AUDIT_KEYS": '{"bench": "bench-audit-key-0123456789abcdefghijklmnopqrstuv"}',
        # and without a mail server; with the scheduler off nothing is sent (a bench that sends
        # passes its sink's host and port)
        "STEPWISE_SMTP_HOST": HOST,
        "PYTHONPATH": str(PROJECT),
    })
    env.update(extra)
    return env


def start_uvicorn(app: str, port: int, workers: int, env: dict[str, str],
                  factory: bool = True) -> subprocess.Popen[bytes]:
    """uvicorn on loopback with N worker processes; returns once it answers."""
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn {app} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz-bench")
            conn.getresponse().read()
            conn.close()
            time.sleep(1.0 if workers > 1 else 0.2)  # let every worker finish starting
            return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"uvicorn {app} did not answer on port {port}")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Stop a server we started (its own process group: the workers go too)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


class Client:
    """One keep-alive connection with a cookie jar, like one browser tab."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        hdrs = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()
            self.conn.request(method, path, body=body, headers=hdrs)
            response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                self.cookies[key] = morsel.value
        return response.status, data

    def login(self, employee_no: str, password: str) -> str:
        """Sign in through the form (CSRF included); the session's CSRF token."""
        import re

        status, page = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if not match:
            raise RuntimeError(f"no CSRF token on the sign-in page ({status})")
        status, body = self.request("POST", "/login", {
            "username": employee_no, "password": password,
            "csrf_token": match.group(1).decode()})
        if status != 303:
            raise RuntimeError(f"sign-in failed: {status} {body[:300]!r}")
        status, me = self.request("GET", "/api/me")
        return json.loads(me)["csrf_token"]


class SmtpCounter:
    """An aiosmtpd server on loopback that counts messages by Message-ID (duplicates show)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.ids: list[str] = []
        self.lock = threading.Lock()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep only the Message-ID (no parsing cost beyond finding the header)."""
        content = envelope.content
        if isinstance(content, str):
            content = content.encode()
        start = content.find(b"Message-ID:")
        if start < 0:
            start = content.find(b"Message-Id:")
        mid = content[start:content.find(b"\n", start)].strip().decode() if start >= 0 else ""
        with self.lock:
            self.ids.append(mid)
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> tuple[int, int]:
        """(messages received, distinct Message-IDs)."""
        with self.lock:
            return len(self.ids), len(set(self.ids))
