"""The main menu links the rules in force ("Quy định") and the procedure for every
role, and both pages answer that role."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.web.support import login, text_of

USERS = ("secretary", "sponsor", "officer", "auditor", "admin")


@pytest.mark.parametrize("username", USERS)
def test_every_role_s_menu_links_the_rules_and_the_procedure(
    shared_app: Flask, username: str
) -> None:
    client = login(shared_app, username)
    home = client.get("/").get_data(as_text=True)
    menu = home.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    links = dict(
        (href, text_of(label))
        for href, label in re.findall(r'href="(/[^"]*)"[^>]*>(.*?)</a>', menu)
    )
    assert links.get("/rules") == "Quy định"
    assert links.get("/process") == "Quy trình"
    for page in ("/rules", "/process"):
        answer = client.get(page)
        assert answer.status_code == 200, (username, page)
        assert 'aria-current="page"' in answer.get_data(as_text=True).split("main-nav", 1)[1]
