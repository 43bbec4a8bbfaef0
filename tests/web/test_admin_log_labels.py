"""Every action the code writes to the admin log has a label on the admin log page, and
so has every table it names. The action names are read from the code itself (its
syntax tree), not from a list kept by hand: a new action without a label fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from flask import Flask
from flask_babel import force_locale

from web import audit
from workflow.directory import admin_log

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "workflow").rglob("*.py"))


def _trees() -> list[ast.Module]:
    return [ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in SOURCES]


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _action_positions(trees: list[ast.Module]) -> dict[str, int]:
    """Functions taking an `action` parameter, with its position (`_log(…, "x", …)`)."""
    found: dict[str, int] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                if "action" in names:
                    found[node.name] = names.index("action")
    return found


def _constant(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def logged_actions() -> set[str]:
    """Every action name the code can hand to `admin_log.append`: the `action=` of a
    call, the `action` argument given by position, the default of an `action` parameter."""
    trees = _trees()
    positions = _action_positions(trees)
    actions: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                given = [_constant(k.value) for k in node.keywords if k.arg == "action"]
                index = positions.get(_name(node) or "")
                if index is not None and index < len(node.args):
                    given.append(_constant(node.args[index]))
                actions.update(a for a in given if a)
            elif isinstance(node, ast.FunctionDef):
                arguments = node.args.posonlyargs + node.args.args
                defaults = [None] * (len(arguments) - len(node.args.defaults))
                pairs = list(zip(arguments, defaults + list(node.args.defaults), strict=True))
                pairs += list(zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True))
                actions.update(
                    value
                    for argument, default in pairs
                    if argument.arg == "action" and (value := _constant(default))
                )
    return actions


def test_the_scan_finds_the_actions_of_every_append() -> None:
    """The scan is not blind: each `admin_log.append` call site adds at least one name,
    and it finds the ones passed through helpers (`_log(…, "change_village", …)`)."""
    appends = sum(
        1
        for tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "admin_log"
    )
    found = logged_actions()
    assert appends >= 8 and len(found) >= appends
    assert {"change_village", "import_member", "claim_task"} <= found


def test_every_logged_action_has_a_label() -> None:
    assert logged_actions() - set(audit.ACTIONS) == set()


def test_every_logged_table_has_a_label() -> None:
    assert set(admin_log.RECORD_TABLES) - set(audit.TABLES) == set()


def test_the_labels_are_in_vietnamese_and_english(app: Flask) -> None:
    with app.test_request_context():
        shown = {}
        for code in ("vi", "en"):
            with force_locale(code):
                shown[code] = {name: str(text) for name, text in audit.ACTIONS.items()}
    assert all(shown["en"].values())
    same = [name for name in audit.ACTIONS if shown["vi"][name] == shown["en"][name]]
    assert same == []  # every label translated
