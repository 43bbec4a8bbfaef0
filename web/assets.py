"""Static files named by their content and served compressed, by WhiteNoise.

At start-up every file under web/static is copied, once per process, to a private
folder under a name carrying a hash of its content (css/ketnap.css →
css/ketnap.5e1f0c2a9b3d.css), with a gzip copy beside it where that is smaller. The
stylesheets' `url(...)` references are rewritten to the hashed names first, so a font
change changes the stylesheet's name too. `url_for('static', filename=...)` then gives
the hashed URL, which WhiteNoise serves gzip-encoded to a client that accepts it, with
`Cache-Control: max-age=<ten years>, public, immutable`: a browser asks once per
version. The plain name still answers (an old bookmark, a file a script names), cached
for an hour only.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import posixpath
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

HASH_LENGTH = 12
PLAIN_MAX_AGE = 3600  # seconds: a file asked for by its plain name
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


@dataclass(frozen=True)
class CompiledStatic:
    folder: Path  # the hashed copies and their .gz
    names: dict[str, str]  # "css/ketnap.css" -> "css/ketnap.5e1f0c2a9b3d.css"


def hashed_name(name: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    folder, base = posixpath.split(name)
    stem, dot, suffix = base.partition(".")
    renamed = f"{stem}.{digest}.{suffix}" if dot else f"{base}.{digest}"
    return posixpath.join(folder, renamed)


def _rewrite_css(name: str, text: str, names: dict[str, str]) -> str:
    """`url(...)` references to files of the tree, pointed at their hashed names."""

    def hashed(match: re.Match[str]) -> str:
        quote, target = match.group(1), match.group(2)
        if target.startswith(("data:", "http:", "https:", "/", "#")):
            return match.group(0)
        path, _, fragment = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
        if resolved not in names:
            return match.group(0)
        relative = posixpath.relpath(names[resolved], posixpath.dirname(name) or ".")
        return f"url({quote}{relative}{'#' + fragment if fragment else ''}{quote})"

    return CSS_URL.sub(hashed, text)


def compile_static(root: Path, into: Path) -> dict[str, str]:
    """Copy every file under `root` to `into` under its hashed name (and a .gz copy
    beside it where gzip helps); the names, plain to hashed."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    names: dict[str, str] = {}
    compressor = Compressor(use_brotli=False, quiet=True)
    # Stylesheets last: their references to fonts and images take the hashed names.
    for path in sorted(files, key=lambda p: p.suffix == ".css"):
        name = path.relative_to(root).as_posix()
        content = path.read_bytes()
        if path.suffix == ".css":
            content = _rewrite_css(name, content.decode("utf-8"), names).encode("utf-8")
        names[name] = hashed_name(name, content)
        target = into / names[name]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if compressor.should_compress(target.name):
            compressor.compress(str(target))
    return names


_compiled: dict[Path, CompiledStatic] = {}
_lock = threading.Lock()


def compiled(root: Path) -> CompiledStatic:
    """The static tree compiled once per process, in a private temporary folder that
    goes when the process ends (no other user can write there)."""
    with _lock:
        if root not in _compiled:
            folder = Path(tempfile.mkdtemp(prefix="ketnap-static-"))
            atexit.register(_remove, folder, os.getpid())
            _compiled[root] = CompiledStatic(folder, compile_static(root, folder))
        return _compiled[root]


def _remove(folder: Path, owner: int) -> None:
    """The folder, by the process that made it (a forked child leaves it alone)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def _nosniff(headers: Any, path: str, url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def _hashed_url_test(hashed_urls: set[str]) -> Callable[[str, str], bool]:
    return lambda path, url: url in hashed_urls


def init_app(app: Flask) -> None:
    """Serve app.static_folder through WhiteNoise, and make `url_for('static', ...)`
    name the hashed copy."""
    assert app.static_folder is not None and app.static_url_path is not None
    static = compiled(Path(app.static_folder).resolve())
    prefix = app.static_url_path.rstrip("/") + "/"
    hashed_urls = {prefix + hashed for hashed in static.names.values()}
    served = WhiteNoise(
        app.wsgi_app,
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=_hashed_url_test(hashed_urls),
        add_headers_function=_nosniff,
    )
    for plain, hashed in static.names.items():
        path = str(static.folder / hashed)
        served.add_file_to_dictionary(prefix + hashed, path)
        served.add_file_to_dictionary(prefix + plain, path)
    app.wsgi_app = served  # type: ignore[method-assign]
    app.extensions["ketnap.static"] = static

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static":
            filename = str(values.get("filename", ""))
            values["filename"] = static.names.get(filename, filename)
