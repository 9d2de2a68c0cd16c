"""The CLEAR checklist page."""

from splkit.book import checklist


def test_checklist_has_the_58_clear_items():
    assert [item[0] for item in checklist.ITEMS] == list(range(1, 59))
    assert {item[3] for item in checklist.ITEMS} <= {"book", "sim", "own", "na"}
    simulated = checklist.checklist_markdown(simulated=True)
    own = checklist.checklist_markdown(simulated=False)
    assert simulated.count("| ✗ not with simulated data |") == sum(
        kind == "sim" for *_, kind, _ in checklist.ITEMS
    )
    assert "| ✗ not with simulated data |" not in own
    assert "| 8 | Study design |" in simulated
