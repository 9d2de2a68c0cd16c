"""The TRIPOD+AI checklist page: every item once, every link to a chapter or page of the book."""

import re

import pytest
import yaml

from splkit.book import tripod
from splkit.book.pages import write_generated_pages
from splkit.config import PROJECT_ROOT

#: The TRIPOD+AI checklist's numbering (Collins et al., BMJ 2024;385:e078378): 27 items, 52 with sub-items.
NUMBERS = (
    ["1", "2", "3a", "3b", "3c", "4", "5a", "5b", "6a", "6b", "6c", "7", "8a", "8b", "8c", "9a", "9b", "9c"]
    + ["10", "11"]
    + [f"12{s}" for s in "abcdefg"]
    + ["13", "14", "15", "16", "17"]
    + [f"18{s}" for s in "abcdef"]
    + ["19", "20a", "20b", "20c", "21", "22", "23a", "23b", "24", "25", "26", "27a", "27b", "27c"]
)
BOOK = PROJECT_ROOT / "book"
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def toc_files() -> set[str]:
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    return {toc["root"]} | {c["file"] for part in toc["parts"] for c in part["chapters"]}


def test_items_follow_the_published_numbering():
    assert [item[0] for item in tripod.ITEMS] == NUMBERS
    assert len(NUMBERS) == 52 and len({re.match(r"\d+", n).group() for n in NUMBERS}) == 27
    assert {item[1] for item in tripod.ITEMS} == set(tripod.SECTIONS)
    assert [s for s in dict.fromkeys(item[1] for item in tripod.ITEMS)] == list(tripod.SECTIONS)
    assert {item[4] for item in tripod.ITEMS} <= set(tripod.KINDS)
    assert all(item[3] and item[5] for item in tripod.ITEMS)


@pytest.mark.parametrize("simulated", [True, False])
@pytest.mark.parametrize("external", [True, False])
def test_page_has_every_item_once_and_links_exist(simulated, external):
    page = tripod.tripod_markdown(simulated, external)
    for number in NUMBERS:
        assert len(re.findall(rf"^\| {number} \|", page, flags=re.MULTILINE)) == 1, number
    targets = set(LINK.findall(page))
    assert targets, "the page links the chapters"
    in_toc = toc_files()
    for target in targets:
        stem = target.rsplit(".", 1)[0]
        assert stem in in_toc, f"{target} is not a chapter or page of the book"
        path = PROJECT_ROOT / target if target.startswith("notebooks/") else BOOK / target
        assert path.is_file(), f"{target} does not exist"
    assert ("07_external_validation" in " ".join(targets)) == external
    assert "{" not in page and "}" not in page  # every placeholder filled


def test_status_says_what_simulated_data_cannot_answer():
    n_sim = sum(kind == "sim" for *_, kind, _ in tripod.ITEMS)
    simulated = tripod.tripod_markdown(simulated=True)
    own = tripod.tripod_markdown(simulated=False)
    assert simulated.count("| ✗ not with simulated data |") == n_sim
    assert "✗ not with simulated data" not in own
    assert "| 10 | Sample size |" in simulated and "Is the training cohort large enough?" in simulated


def test_generated_page_is_filled(tmp_path):
    stage, run = tmp_path / "stage", tmp_path / "run"
    stage.mkdir(), run.mkdir()
    (stage / "tripod_ai.md").write_text((BOOK / "tripod_ai.md").read_text())
    write_generated_pages(stage, run)
    text = (stage / "tripod_ai.md").read_text()
    assert "{{ tripod_ai }}" not in text and "| 27c | Usability |" in text
    assert "notebooks/07_external_validation.ipynb" not in text  # no chapter 7 staged
