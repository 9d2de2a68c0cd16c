"""The built book works offline: a Sphinx extension that drops network resources, and site checks.

Jupyter Book 1 pulls in ``sphinx-thebe``, which writes the URL of its JavaScript bundle on unpkg.com
into every page, and Sphinx loads MathJax from a CDN on pages with math.  This module

* is a Sphinx extension (``sphinx: extra_extensions: [splkit.book.site]`` in ``book/_config.yml``) that
  removes the thebe scripts and every script or stylesheet with an absolute URL from each page;
* copies MathJax 3 from the ``django-static-mathjax`` wheel into the staged book (served as
  ``_static/mathjax/``) so math renders without a network (``mathjax_path: mathjax/tex-chtml.js``
  in ``_config.yml``);
* checks a built site: :func:`external_resources` lists every resource a page would fetch from
  another host, :func:`broken_links` every internal link whose target file or anchor is missing.
"""

from __future__ import annotations

import html
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

#: The MathJax component the book loads and the folders it loads lazily (fonts, TeX extensions, menu).
MATHJAX_FILES = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y", "sre")

#: Folder of the staged book that holds ``mathjax/`` (served as ``_static/mathjax/``).
MATHJAX_STAGE = "_mathjax"

#: (tag, attribute) pairs whose URL a browser fetches while loading the page.
RESOURCE_ATTRIBUTES = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
}


def _is_external(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


# --------------------------------------------------------------------------------------- Sphinx extension


def _offline_page_context(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Drop thebe and every absolute-URL script or stylesheet from one page's assets."""

    def keep(asset: Any) -> bool:
        filename = str(getattr(asset, "filename", asset) or "")
        body = str(getattr(asset, "attributes", {}).get("body", ""))
        return not (_is_external(filename) or "sphinx-thebe" in filename or "THEBE_JS_URL" in body)

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if keep(asset)]


def _drop_thebe_config(app: Any, doctree: Any, docname: str) -> None:
    """Remove the ``text/x-thebe-config`` blocks sphinx-thebe adds (they name a Binder repository)."""
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        text = node.astext().strip()
        if "text/x-thebe-config" in text or text.startswith("<script>kernelName ="):
            node.parent.remove(node)


def _add_mathjax_static(app: Any, config: Any) -> None:
    """Serve the staged ``_mathjax`` folder as static files (outside ``_static``, whose every ``.js``
    Jupyter Book would add to every page)."""
    folder = Path(app.srcdir) / MATHJAX_STAGE
    if folder.is_dir():
        config.html_static_path = [*config.html_static_path, str(folder)]


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="{icon}">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def _complete_redirect_index(app: Any, exception: Exception | None) -> None:
    """Make the bare ``index.html`` redirect of sphinx-external-toc a complete page.

    It holds only a ``<meta http-equiv="Refresh">``; a browser then asks the server for
    ``/favicon.ico`` (a 404 in the console).  The page gets a charset, a title and the book's icon.
    """
    if exception is not None or getattr(app.builder, "format", "") != "html":
        return
    index = Path(app.outdir) / "index.html"
    if not index.exists() or "http-equiv" not in (text := index.read_text()) or len(text) > 500:
        return
    target = text.split("url=", 1)[1].split('"', 1)[0].strip()
    favicon = app.config.html_favicon
    icon = f"_static/{Path(str(favicon)).name}" if favicon and "://" not in str(favicon) else "data:,"
    index.write_text(
        REDIRECT_PAGE.format(
            title=html.escape(str(app.config.html_title or app.config.project)), target=target, icon=icon
        )
    )


def setup(app: Any) -> dict[str, Any]:
    """Register the offline hooks (run after sphinx-thebe's and Sphinx's own, hence priority 900)."""
    app.connect("config-inited", _add_mathjax_static, priority=900)
    app.connect("html-page-context", _offline_page_context, priority=900)
    app.connect("doctree-resolved", _drop_thebe_config, priority=900)
    app.connect("build-finished", _complete_redirect_index, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------------------- MathJax


def mathjax_source() -> Path:
    """The ``es5`` folder of MathJax 3 shipped by the ``django-static-mathjax`` wheel."""
    try:
        import mathjax
    except ImportError as error:  # pragma: no cover - a dependency of splkit
        raise ImportError(
            "MathJax for the offline book comes from `pip install django-static-mathjax`"
        ) from error
    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml.js").exists():
        raise FileNotFoundError(f"MathJax's tex-chtml.js not found in {source}")
    return source


def copy_mathjax(stage: Path) -> Path:
    """Copy the MathJax files the book needs into ``<stage>/_mathjax/mathjax`` and return that folder."""
    source = mathjax_source()
    target = Path(stage) / MATHJAX_STAGE / "mathjax"
    for relative in MATHJAX_FILES:
        src, dst = source / relative, target / relative
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    return target


# --------------------------------------------------------------------------------------- site checks


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.resources: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        for name, value in values.items():
            if (tag, name) in RESOURCE_ATTRIBUTES and value:
                self.resources.append(value)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8", errors="replace"))
    return parser


def _pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in Path(html_dir).rglob("*.html") if "_static" not in p.relative_to(html_dir).parts)


def external_resources(html_dir: str | Path) -> list[tuple[str, str]]:
    """``(page, url)`` for every script, stylesheet, image or frame a page loads from another host.

    Also scans the site's CSS for ``url(http…)`` and ``@import`` of remote stylesheets.  Links
    (``<a href>``) to other sites are navigation, not resources, and are not listed.
    """
    html_dir = Path(html_dir)
    found = []
    for page in _pages(html_dir):
        for url in _parse(page).resources:
            if _is_external(url):
                found.append((str(page.relative_to(html_dir)), url))
    for css in sorted(html_dir.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for marker in ("url(http", "url('http", 'url("http', "url(//", "@import url(http", '@import "http'):
            if marker in text:
                found.append((str(css.relative_to(html_dir)), marker))
    return found


def broken_links(html_dir: str | Path) -> list[tuple[str, str]]:
    """``(page, href)`` for every relative link whose target file, or ``#anchor`` in it, is missing."""
    html_dir = Path(html_dir).resolve()
    parsed: dict[Path, _PageParser] = {}

    def parsed_page(path: Path) -> _PageParser:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    broken = []
    for page in _pages(html_dir):
        for href in parsed_page(page).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append((str(page.relative_to(html_dir)), href))
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in parsed_page(target).ids:
                broken.append((str(page.relative_to(html_dir)), href))
    return broken


def check_site(html_dir: str | Path) -> None:
    """Raise ``RuntimeError`` listing every external resource and broken internal link of a built site."""
    problems = [f"{page}: loads {url} from the network" for page, url in external_resources(html_dir)]
    problems += [f"{page}: broken link {href}" for page, href in broken_links(html_dir)]
    if problems:
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise RuntimeError(f"the built book at {html_dir} is not self-contained:\n  {shown}{more}")
