"""Console cookies as a browser receives them, behind an https PUBLIC_URL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from dependency_injector import providers
from tests.support.api_server import api_container, serve
from tests.support.console_browser import STAFF_EMAIL, STAFF_PASSWORD, add_staff

from adapters.sql import Database


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def https_base_url(database_url: str) -> Iterator[str]:
    container = api_container(database_url=database_url)
    settings = container.settings().model_copy(update={"public_url": "https://desk.example"})
    container.settings.override(providers.Object(settings))
    with serve(container) as url:
        yield url


async def test_behind_https_the_session_and_csrf_cookies_are_secure_httponly_and_lax(
    https_base_url: str, database: Database
) -> None:
    await add_staff(database)
    async with httpx.AsyncClient(base_url=https_base_url, timeout=10) as browser:
        form = await browser.get("/console/login")
        csrf_cookie = form.headers["set-cookie"]
        assert "Secure" in csrf_cookie
        assert "HttpOnly" in csrf_cookie
        assert "Path=/console" in csrf_cookie
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        cookie_value = csrf_cookie.split(";")[0]  # httpx keeps Secure cookies off http

        signed = await browser.post(
            "/console/login",
            data={"_csrf_token": token[1], "email": STAFF_EMAIL, "password": STAFF_PASSWORD},
            headers={"cookie": cookie_value},
        )
    assert signed.status_code == 303, signed.text
    session_cookie = signed.headers["set-cookie"]
    assert session_cookie.startswith("frontdesk_session=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/console"):
        assert attribute in session_cookie
