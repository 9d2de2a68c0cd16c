"""Offline site: the checks that find network resources and broken links, and the Sphinx hooks."""

import pytest

from splkit.book import site as booksite


def test_site_checks_find_external_resources_and_broken_links(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="_static/a.css"></head><body id="top">'
        '<a href="sub/page.html#here">ok</a><a href="sub/page.html#nowhere">bad anchor</a>'
        '<a href="missing.html">bad file</a><a href="https://doi.org/10.1/x">external link is fine</a>'
        '<img src="//images.example.org/i.png"></body></html>'
    )
    (tmp_path / "sub" / "page.html").write_text(
        '<html><body><p id="here">x</p><a href="../index.html#top">up</a>'
    )
    external = booksite.external_resources(tmp_path)
    assert sorted(url for _, url in external) == [
        "//images.example.org/i.png",
        "https://cdn.example.org/x.js",
    ]
    assert sorted(href for _, href in booksite.broken_links(tmp_path)) == [
        "missing.html",
        "sub/page.html#nowhere",
    ]
    with pytest.raises(RuntimeError, match="not self-contained"):
        booksite.check_site(tmp_path)


class _Asset:
    def __init__(self, filename, **attributes):
        self.filename, self.attributes = filename, attributes


def test_page_context_drops_thebe_and_remote_assets():
    context = {
        "script_files": [
            _Asset("_static/doctools.js"),
            _Asset(None, body='const THEBE_JS_URL = "https://unpkg.com/thebe"'),
            _Asset("sphinx-thebe.js"),
            _Asset("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"),
            _Asset("mathjax/tex-chtml.js"),
        ],
        "css_files": [_Asset("_static/basic.css"), _Asset("//fonts.example.org/font.css")],
    }
    booksite._offline_page_context(None, "intro", "page.html", context, None)
    assert [a.filename for a in context["script_files"]] == ["_static/doctools.js", "mathjax/tex-chtml.js"]
    assert [a.filename for a in context["css_files"]] == ["_static/basic.css"]


def test_redirect_index_becomes_a_complete_page(tmp_path):
    from types import SimpleNamespace

    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />\n')
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        outdir=str(tmp_path),
        config=SimpleNamespace(html_favicon="favicon.svg", html_title="A & B", project="p"),
    )
    booksite._complete_redirect_index(app, None)
    page = (tmp_path / "index.html").read_text()
    assert '<link rel="icon" href="_static/favicon.svg">' in page
    assert "<title>A &amp; B</title>" in page and 'url=intro.html"' in page
    assert booksite.broken_links(tmp_path) == [("index.html", "intro.html")]  # intro.html absent here


def test_copy_mathjax_copies_the_component_and_its_fonts(tmp_path):
    target = booksite.copy_mathjax(tmp_path)
    assert (target / "tex-chtml.js").exists()
    assert any((target / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert (target / "input" / "tex" / "extensions" / "ams.js").exists()
