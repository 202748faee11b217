"""``fuwu serve`` in production mode: gunicorn, WhiteNoise with collected static files, a worker beside it."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from fuwu.common.management.commands.serve import web_workers
from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own local server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_web_workers_follow_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUWU_WEB_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert web_workers() == 9
    monkeypatch.setenv("FUWU_WEB_WORKERS", "3")
    assert web_workers() == 3


def test_serve_in_production_mode(tmp_path: Path) -> None:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env = {
        **base,
        "PYTHONPATH": str(REPO),
        "FUWU_VAR_DIR": str(tmp_path / "var"),
        "FUWU_ENV": "production",
        "SECRET_KEY": "s" * 50,
        "FUWU_PII_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback, as behind a TLS-terminating proxy
        "FUWU_WEB_WORKERS": "2",
    }

    def fuwu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "fuwu", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )

    refused = fuwu("serve", "--bind", f"127.0.0.1:{port}")
    assert refused.returncode == 1
    assert "run `fuwu collectstatic --noinput` first" in refused.stderr
    assert fuwu("migrate", "--no-input", "-v", "0").returncode == 0
    assert fuwu("collectstatic", "--no-input", "-v", "0").returncode == 0

    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "fuwu", "serve", "--bind", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        site = f"http://127.0.0.1:{port}"
        for _ in range(60):
            try:
                status, _, body = get(site + "/healthz")
                break
            except OSError:
                time.sleep(0.5)
        assert (status, body) == (200, b"ok\n")
        status, _, body = get(site + "/readyz")
        assert (status, body) == (503, b"not ready: no standard is in force (none loaded)\n")
        status, _, page = get(site + "/no/such/page/")
        assert status == 404
        assert "找不到这个页面" in page.decode()
        css = re.search(r'href="(/static/fuwu/site\.[0-9a-f]{12}\.css)"', page.decode())
        assert css, "collected, hashed static file names in production"
        status, headers, _ = get(site + css.group(1))
        assert status == 200
        assert "immutable" in headers.get("Cache-Control", "")  # WhiteNoise: cache for ever, the name changes
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)
    assert server.returncode == 0, out
    assert "gunicorn on http://127.0.0.1" in out
    assert "with a background worker" in out
    assert re.search(r'"GET /healthz HTTP/1\.1" 200', out), out  # the access log
