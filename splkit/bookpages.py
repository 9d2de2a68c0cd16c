"""Book pages generated from a run (no hand-copied numbers): settings and headline results.

The introduction in ``book/intro.md`` may hold the marker ``{{ headline_results }}``; it is replaced by
the headline table generated from the run's ``results.json``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from splkit.report import load_results

MARKER = "{{ headline_results }}"


def headline_markdown(results: dict) -> str:
    """Markdown summary of the run's recorded results (grows as the notebooks record more)."""
    cohort = results.get("cohort", {})
    lines = []
    if cohort:
        lines.append(
            f"This run analysed **{cohort.get('n_patients', '?')} patients** "
            f"({cohort.get('n_train', '?')} training, {cohort.get('n_validation', '?')} validation)."
        )
    else:
        lines.append("No cohort numbers were recorded in this run.")
    return "\n".join(lines) + "\n"


def settings_markdown(run_dir: Path) -> str:
    """The run's full resolved profile as a YAML code block."""
    settings_file = run_dir / "settings.yaml"
    text = (
        settings_file.read_text() if settings_file.exists() else "# no settings.yaml in the run directory\n"
    )
    return f"```yaml\n{text}```\n"


def write_generated_pages(stage: Path, run_dir: Path) -> None:
    """Fill the generated parts of the staged book from the run directory."""
    results = load_results(run_dir)
    intro = stage / "intro.md"
    intro.write_text(intro.read_text().replace(MARKER, headline_markdown(results)))
    methods = stage / "methods.md"
    if methods.exists():
        methods.write_text(methods.read_text().replace("{{ settings }}", settings_markdown(run_dir)))
    (stage / "_generated_settings.yaml").write_text(yaml.safe_dump({"run_dir": run_dir.name}))
