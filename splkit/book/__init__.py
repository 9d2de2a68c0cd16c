"""Running and publishing the book: the papermill runner, generated pages, the site checks, the plot style.

:mod:`~splkit.book.runner` executes the numbered notebooks, :mod:`~splkit.book.build` stages and builds
the Jupyter Book, :mod:`~splkit.book.pages` / :mod:`~splkit.book.methods` / :mod:`~splkit.book.checklist`
fill its generated pages, :mod:`~splkit.book.site` keeps the site offline and checks it,
:mod:`~splkit.book.plots` is the house plot style and :mod:`~splkit.book.format` the number formats.
"""

from splkit.book.build import BOOK_SOURCES, build_book, stage_book

__all__ = ["BOOK_SOURCES", "build_book", "stage_book"]
