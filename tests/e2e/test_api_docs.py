"""`/docs` and `/redoc` work offline: every script, style sheet and icon comes from the app."""

from __future__ import annotations

import re

import pytest
from tests.e2e.conftest import Api


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_assets(api: Api, page: str) -> None:
    # when the page is fetched
    response = api.client.get(page)
    assert response.status_code == 200
    html = response.text
    # then every URL it loads is on this server, and answers
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    urls += re.findall(r"""\b(?:url|spec-url)\s*:\s*['"]([^'"]+)['"]""", html)
    assert urls, html
    assert not re.search(r"https?://", html.replace("https://billstream.dev", "")), html
    for url in urls:
        assert url.startswith("/"), url
        assert api.client.get(url).status_code == 200, url


def test_swagger_ui_sends_the_document_to_no_validator(api: Api) -> None:
    html = api.client.get("/docs").text
    assert '"validatorUrl": null' in html
