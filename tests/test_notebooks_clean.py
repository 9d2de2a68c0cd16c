"""Notebooks are committed without outputs or execution counts, with one `parameters` cell."""

import json

import pytest

from splkit.book.runner import NOTEBOOK_DIR, numbered_notebooks

NOTEBOOKS = numbered_notebooks(NOTEBOOK_DIR)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_skeleton(path):
    notebook = json.loads(path.read_text())
    cells = notebook["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    parameter_cells = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(parameter_cells) == 1, f"{path.name} needs exactly one cell tagged `parameters`"
    source = "".join(parameter_cells[0]["source"])
    assert "profile =" in source and "run_dir =" in source
