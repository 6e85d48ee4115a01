"""HTTP hardening on a real server: security headers, /metrics access, the failed-key
throttle and unknown query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
from dependency_injector import providers
from pydantic import SecretStr
from tests.support.api_server import API_KEY, api_container, serve
from tests.support.fakes import FakeDatabase, FakeUnitOfWork, InMemoryStore
from tests.support.metrics_text import sample

from entrypoints.container import Container
from entrypoints.http import create_app

PROBLEM = "application/problem+json"


class ManualClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def in_memory(container: Container, **settings: object) -> Container:
    """`container` on in-memory storage, with `settings` changed."""
    container.settings.override(providers.Object(container.settings().model_copy(update=settings)))
    container.unit_of_work.override(providers.Factory(FakeUnitOfWork, InMemoryStore()))
    container.database.override(providers.Object(FakeDatabase()))
    return container


@pytest.fixture
def server() -> Iterator[str]:
    with serve(in_memory(api_container())) as base_url:
        yield base_url


def test_every_response_carries_the_security_headers_and_no_server_name(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        responses = [
            client.get("/healthz"),
            client.get("/no-such-page"),
            client.get("/api/v1/practice"),  # 401
            client.get("/api/v1/practice", headers={"Authorization": f"Bearer {API_KEY}"}),
        ]
    for response in responses:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers
        assert response.headers["date"]
        assert "strict-transport-security" not in response.headers  # PUBLIC_URL is http


def test_responses_with_personal_data_are_not_stored_by_caches(server: str) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, headers=auth, timeout=10) as client:
        assert client.get("/api/v1/appointments").headers["cache-control"] == "no-store"
        assert client.get("/api/v1/calls").headers["cache-control"] == "no-store"
        assert client.get("/api/v1/calls/CA0").headers["cache-control"] == "no-store"  # 404
        assert "cache-control" not in client.get("/api/v1/practice").headers


def test_an_https_public_url_turns_on_strict_transport_security() -> None:
    container = in_memory(api_container(), public_url="https://frontdesk.example.net")
    with serve(container) as base_url:
        response = httpx.get(f"{base_url}/healthz", timeout=10)
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_metrics_require_the_token_when_one_is_set() -> None:
    container = in_memory(api_container(), frontdesk_metrics_token=SecretStr("scrape-me-123"))
    with serve(container) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-124"})
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-123"})
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert "scrape-me" not in refused.text
    assert right.status_code == 200
    assert "frontdesk_active_calls" in right.text


def test_metrics_without_a_token_answer_loopback(server: str) -> None:
    assert httpx.get(f"{server}/metrics", timeout=10).status_code == 200


async def test_metrics_without_a_token_refuse_a_client_that_is_not_loopback() -> None:
    app = create_app(in_memory(api_container()))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 41000))
    async with httpx.AsyncClient(transport=transport, base_url="http://frontdesk") as client:
        refused = await client.get("/metrics")
        allowed = await client.get("/healthz")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "forbidden"
    assert allowed.status_code == 200


async def test_metrics_with_a_token_admit_a_remote_client_that_sends_it() -> None:
    app = create_app(in_memory(api_container(), frontdesk_metrics_token=SecretStr("tok-0123")))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 41000))
    async with httpx.AsyncClient(transport=transport, base_url="http://frontdesk") as client:
        assert (await client.get("/metrics")).status_code == 401
        sent = await client.get("/metrics", headers={"Authorization": "Bearer tok-0123"})
    assert sent.status_code == 200


def test_repeated_invalid_keys_from_one_address_are_throttled_then_let_in_again() -> None:
    clock = ManualClock()
    container = in_memory(api_container(), api_auth_failure_limit=10, api_auth_failure_window_s=60)
    with (
        serve(container, auth_clock=clock) as base_url,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        guesses = [
            client.get("/api/v1/practice", headers={"Authorization": f"Bearer guess-{n}"})
            for n in range(30)
        ]
        statuses = [r.status_code for r in guesses]
        assert statuses == [401] * 10 + [429] * 20
        throttled = guesses[-1]
        assert throttled.headers["content-type"].startswith(PROBLEM)
        assert throttled.json()["code"] == "auth_throttled"
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        # While throttled even the right key is refused: a guess must learn nothing.
        valid = {"Authorization": f"Bearer {API_KEY}"}
        assert client.get("/api/v1/practice", headers=valid).status_code == 429

        metrics = client.get("/metrics").text
        assert sample(metrics, "frontdesk_api_auth_failures_total") == 10
        assert sample(metrics, "frontdesk_api_auth_throttled_total") == 21

        clock.now += 61  # the window slides past every counted failure
        assert client.get("/api/v1/practice", headers=valid).status_code == 200
        assert (
            client.get("/api/v1/practice", headers={"Authorization": "Bearer x"}).status_code == 401
        )


def test_successful_requests_are_not_counted_as_failures(server: str) -> None:
    valid = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, timeout=10) as client:
        for _ in range(9):
            assert (
                client.get("/api/v1/practice", headers={"Authorization": "Bearer no"}).status_code
                == 401
            )
        assert all(
            client.get("/api/v1/practice", headers=valid).status_code == 200 for _ in range(20)
        )
        assert (
            client.get("/api/v1/practice", headers={"Authorization": "Bearer no"}).status_code
            == 401
        )
        assert client.get("/api/v1/practice", headers=valid).status_code == 429


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/appointments", {"provder": "dr-lee"}),
        ("/api/v1/slots", {"service": "cleaning", "date": "2030-12-03"}),
        ("/api/v1/calls", {"phone": "+14155550123"}),
        ("/api/v1/practice", {"verbose": "1"}),
        ("/api/v1/appointments/7d1c0b1e-0000-4000-8000-000000000000", {"expand": "patient"}),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_it(
    server: str, path: str, query: dict[str, str]
) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    response = httpx.get(f"{server}{path}", params=query, headers=auth, timeout=10)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == "unknown_query_parameter"
    (name,) = query.keys() - {"service"}
    assert [e["field"] for e in body["errors"]] == [name]
    assert name in body["detail"]


def test_known_query_parameters_are_still_accepted(server: str) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=server, headers=auth, timeout=10) as client:
        assert (
            client.get("/api/v1/slots", params={"service": "cleaning", "limit": 2}).status_code
            == 200
        )
        listed = client.get("/api/v1/calls", params={"from": "2030-12-02", "limit": 5, "offset": 0})
        assert listed.status_code == 200, listed.text


_CONTENT_TYPES = {
    "js": "text/javascript",
    "css": "text/css",
    "json": "application/vnd.oai.openapi+json",
}


class _References(HTMLParser):
    """Every URL an HTML page makes the browser load: `src` and `href` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v is not None]


@pytest.mark.parametrize("page", ["/schema", "/schema/scalar"])
def test_the_docs_page_loads_only_assets_served_here(server: str, page: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp
        assert "connect-src 'self';" in csp
        assert "unsafe-eval" not in csp
        assert "https://" not in response.text
        assert "http://" not in response.text
        references = _References()
        references.feed(response.text)
        scripts = [u for u in references.urls if u.endswith(".js")]
        assert scripts, response.text
        for url in references.urls:
            assert url.startswith(("/", "data:")), url
            assert not url.startswith("//"), url
            if url.startswith("/"):
                asset = client.get(url)
                assert asset.status_code == 200, url
                expected = _CONTENT_TYPES[url.rpartition(".")[2]]
                assert asset.headers["content-type"].startswith(expected), url
        assert "/schema/openapi.json" in response.text
        document = client.get("/schema/openapi.json")
        assert document.status_code == 200
        assert document.json()["info"]["title"] == "frontdesk"
