"""Ways to reach planqa: a running server over HTTP, or the app itself inside this process.

Both speak the public API only (/api/search, /api/ask), so an in-process score and a score of a
deployed server measure the same thing.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from indexer.settings import Settings

TIMEOUT_S = 300.0


class BackendError(RuntimeError):
    """The service answered a call with an error status."""


@runtime_checkable
class Backend(Protocol):
    def search(self, query: str, top_k: int, mode: str) -> list[dict[str, Any]]: ...

    def ask(self, question: str, top_k: int) -> dict[str, Any]: ...


def _checked(response: Any) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = f"{body.get('error', '')}: {body.get('detail', '')}"
        except ValueError:
            detail = response.text[:300]
        raise BackendError(f"HTTP {response.status_code} from {response.request.url.path} — {detail}")
    data: dict[str, Any] = response.json()
    return data


class _ApiClient:
    """Shared request logic over anything with httpx.Client's post()."""

    _client: Any

    def check_ready(self) -> None:
        """Fail early, with the server's reason, rather than scoring a run of 503s. A service
        still loading (or building) its index is waited for, up to TIMEOUT_S."""
        deadline = time.monotonic() + TIMEOUT_S
        response = self._client.get("/readyz")
        while response.status_code == 503 and time.monotonic() < deadline:
            try:
                status = response.json().get("status")
            except ValueError:
                break
            if status not in ("loading", "building"):
                break
            time.sleep(0.5)
            response = self._client.get("/readyz")
        if response.status_code != 200:
            raise BackendError(f"planqa is not ready (HTTP {response.status_code}): {response.text[:300]}")

    def search(self, query: str, top_k: int, mode: str) -> list[dict[str, Any]]:
        body = {"query": query, "top_k": top_k, "mode": mode}
        results: list[dict[str, Any]] = _checked(self._client.post("/api/search", json=body))["results"]
        return results

    def ask(self, question: str, top_k: int) -> dict[str, Any]:
        return _checked(self._client.post("/api/ask", json={"question": question, "top_k": top_k}))


def _auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class HttpBackend(_ApiClient):
    """A planqa server at `url`, e.g. http://127.0.0.1:8000."""

    def __init__(self, url: str, api_key: str | None = None) -> None:
        import httpx

        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, headers=_auth_headers(api_key), timeout=TIMEOUT_S)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessBackend(_ApiClient):
    """The app built by service.app.create_app, driven through FastAPI's TestClient.

    The TestClient is entered as a context manager so the app's lifespan runs and loads the
    index and model once, exactly as a server start would.
    """

    def __init__(self, settings: Settings | None = None, api_key: str | None = None) -> None:
        self.settings = settings
        self._api_key = api_key
        self._cm: Any = None

    def __enter__(self) -> InProcessBackend:
        from fastapi.testclient import TestClient

        from service.app import create_app

        app = create_app(self.settings)
        key = self._api_key
        if key is None and self.settings is not None and self.settings.api_key_list:
            key = self.settings.api_key_list[0]
        self._cm = TestClient(app, headers=_auth_headers(key))
        self._client = self._cm.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._cm is not None:
            self._cm.__exit__(exc_type, exc, tb)
            self._cm = None
