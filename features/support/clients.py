"""Where a scenario's evaluation runs: the engine in process, the HTTP service, or the FastAPI app in process.

All three return the full explanation (``Engine.answer`` with ``detail="full"`` ≡ ``POST
/v1/evaluations`` with ``"detail": "full"``), so the same feature files hold both the engine and the
service to the policy: the steps and the failure messages read its fields (label, status, actual and
expected values, gap, formula, band, decisive, moot, benefit, missing facts), which the default
answer, the verdict, does not carry.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, Protocol

# the explanation the features read; the engine's and the service's default may be leaner
DETAIL = "full"


class ProfileRejected(AssertionError):
    """The engine or the service refused the profile (it breaks the contract).

    ``problem`` is the RFC 9457 body (``errors``: field and message each), which the failure message
    words in the officer's terms (features/support/explain.py).
    """

    def __init__(self, problem: Any) -> None:
        self.problem = problem
        super().__init__(_problem_text(problem))


class EvaluationFailed(AssertionError):
    """The engine raised, or the service answered with an error: the scenario cannot be judged."""


class EvaluationClient(Protocol):
    name: str

    def evaluate(
        self, profile: dict, as_of: str, measures: list[str] | None, lang: str
    ) -> dict[str, Any]: ...

    def close(self) -> None: ...


class EngineClient:
    """The engine in this process (default). ``backend``: durable or python."""

    def __init__(self, backend: str | None = None) -> None:
        from engine import Engine

        self.engine = Engine(backend=backend)
        self.name = f"engine ({self.engine.backend.name})"

    def evaluate(self, profile: dict, as_of: str, measures: list[str] | None, lang: str) -> dict[str, Any]:
        from engine import InvalidProfile, Options

        try:
            return self.engine.answer(profile, as_of, measures, Options(DETAIL, lang))
        except InvalidProfile as e:
            raise ProfileRejected(e.problem(lang)) from None
        except Exception as e:  # reported as the step's failure; --tb=long shows the traceback
            raise EvaluationFailed(f"引擎出错 / the engine raised {type(e).__name__}: {e}") from e

    def close(self) -> None:
        pass


class HttpClient:
    """A running service: ``POST {base}/v1/evaluations`` (httpx); ``asgi`` runs api.main.app in process."""

    def __init__(self, target: str) -> None:
        # anonymous self-checks are answered and not stored; HUIQI_API_KEY authenticates (and stores)
        key = os.environ.get("HUIQI_API_KEY")
        self.headers = {"X-API-Key": key} if key else {}
        if target == "asgi":
            try:
                from api.main import app
            except ImportError as e:
                raise RuntimeError(f"--huiqi-api=asgi needs api/main.py with a FastAPI app: {e}") from e
            with warnings.catch_warnings():  # starlette's note on httpx is not ours to act on
                warnings.simplefilter("ignore")
                from fastapi.testclient import TestClient

            self.http: Any = TestClient(app)
            self.http.__enter__()  # run the app's lifespan (startup) once for the session
            self.name = "api (asgi, in process)"
        else:
            import httpx

            self.http = httpx.Client(base_url=target.rstrip("/"), timeout=30)
            self.name = f"api ({target})"

    def evaluate(self, profile: dict, as_of: str, measures: list[str] | None, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {"profile": profile, "as_of": as_of, "lang": lang, "detail": DETAIL}
        if measures:
            body["measures"] = measures
        response = self.http.post("/v1/evaluations", json=body, headers=self.headers)
        if response.status_code in (400, 422):
            try:
                problem = response.json()
            except ValueError:
                problem = {"title": response.text}
            raise ProfileRejected(problem)
        if response.status_code not in (200, 201):  # 201: stored, when a key is sent
            raise EvaluationFailed(
                f"POST /v1/evaluations 返回 HTTP {response.status_code}：{response.text[:2000]}"
            )
        return response.json()

    def close(self) -> None:
        if hasattr(self.http, "__exit__") and self.name.startswith("api (asgi"):
            self.http.__exit__(None, None, None)
        else:
            self.http.close()


def _problem_text(problem: Any) -> str:
    if isinstance(problem, dict) and problem.get("errors"):
        lines = [str(problem.get("title") or problem.get("detail") or "画像不符合契约 / profile rejected")]
        for item in problem["errors"]:
            if isinstance(item, dict):
                where = item.get("field") or item.get("loc") or ""
                lines.append(f"  {where}: {item.get('message') or item.get('msg') or item}")
            else:
                lines.append(f"  {item}")
        return "\n".join(lines)
    return json.dumps(problem, ensure_ascii=False)[:2000]


class ServedClient(HttpClient):
    """``--huiqi-api=serve``: start the service (uvicorn, a throwaway SQLite database) on a free
    loopback port, run every scenario over real HTTP, stop it at the end."""

    def __init__(self) -> None:
        import socket
        import subprocess
        import sys
        import tempfile
        import time

        import httpx

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.tmp = tempfile.TemporaryDirectory(prefix="huiqi-features-")
        env = dict(os.environ)
        env.update(
            HUIQI_DATABASE_URL=f"sqlite:///{self.tmp.name}/huiqi.db",
            HUIQI_SCREENING_AUTOSTART="false",  # the features need no background screening workers
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the service did not start: {self.proc.stderr.read().decode(errors='replace')[-2000:]}"
                )
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("the service did not answer /healthz within 60 s")
            time.sleep(0.2)
        super().__init__(base)
        self.name = f"api (uvicorn on {base})"

    def close(self) -> None:
        super().close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - it is ours to kill
            self.proc.kill()
        self.tmp.cleanup()


def make_client(api: str | None, backend: str | None) -> EvaluationClient:
    if api == "serve":
        return ServedClient()
    if api:
        return HttpClient(api)
    return EngineClient(backend)
