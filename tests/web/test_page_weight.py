"""Page weight: every main page of every demo role, with everything it loads, under
150 KB as transferred (asked with Accept-Encoding: gzip, as a browser does), and no
script over 50 KB on the case page. The pages are found as a user finds them: the main
menu of each role, the first case of its list, the first report of its report list."""

from __future__ import annotations

import gzip
import posixpath
import re
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from tests.web.support import login

LIMIT = 150 * 1024
SCRIPT_LIMIT = 50 * 1024
ROLES = ("secretary", "sponsor", "officer", "officer-tinh", "auditor", "admin")
GZIP = {"Accept-Encoding": "gzip"}
ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?(?:href|src)="(/static/[^"]+)"')
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


@dataclass
class Weight:
    url: str
    document: int
    assets: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.document + sum(self.assets.values())


def transferred(client: FlaskClient, url: str) -> tuple[int, bytes]:
    """The bytes on the wire (compressed when the server compressed) and the content."""
    response = client.get(url, headers=GZIP)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    raw = response.get_data()
    response.close()
    if response.headers.get("Content-Encoding") == "gzip":
        return len(raw), gzip.decompress(raw)
    return len(raw), raw


def weigh(client: FlaskClient, url: str) -> Weight:
    size, body = transferred(client, url)
    weight = Weight(url, size)
    pending = ASSET.findall(body.decode("utf-8"))
    while pending:
        asset = pending.pop().split("#")[0]
        if asset in weight.assets:
            continue
        weight.assets[asset], content = transferred(client, asset)
        if asset.endswith(".css"):  # its fonts and images: counted as if all were used
            base = posixpath.dirname(asset)
            for ref in CSS_URL.findall(content.decode("utf-8")):
                if not ref.startswith(("data:", "http")):
                    pending.append(posixpath.normpath(posixpath.join(base, ref)))
    return weight


def main_pages(client: FlaskClient) -> list[str]:
    """The role's main menu, its first case and its first report (when it has them)."""
    home = client.get("/").get_data(as_text=True)
    menu = home.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    pages = ["/", *re.findall(r'href="(/[^"]*)"', menu)]
    cases = client.get("/cases").get_data(as_text=True)
    pages += re.findall(r'href="(/cases/\d+)"', cases)[:1]
    if "/reports" in pages:
        reports = client.get("/reports").get_data(as_text=True)
        pages += [
            u.replace("&amp;", "&")
            for u in re.findall(r'href="(/reports/\w+\?[^"]+)"', reports)[:1]
        ]
    return list(dict.fromkeys(pages))


def test_no_main_page_of_any_role_weighs_over_150_kb(shared_app: Flask) -> None:
    heavy = []
    seen = 0
    for role in ROLES:
        client = login(shared_app, role)
        for url in main_pages(client):
            weight = weigh(client, url)
            seen += 1
            assert weight.assets, f"{role} {url}: no stylesheet found"
            if weight.total > LIMIT:
                heavy.append((role, url, weight.total, weight.assets))
    assert seen >= 25
    assert not heavy, heavy


def test_no_script_on_the_case_page_weighs_over_50_kb(shared_app: Flask) -> None:
    client = login(shared_app, "secretary")
    cases = client.get("/cases").get_data(as_text=True)
    case_url = re.findall(r'href="(/cases/\d+)"', cases)[0]
    html = client.get(case_url).get_data(as_text=True)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and not re.search(r"<script(?![^>]*src=)", html)  # none inline
    for script in scripts:
        response = client.get(script)  # uncompressed: the stricter measure
        assert len(response.get_data()) <= SCRIPT_LIMIT, script
        response.close()
