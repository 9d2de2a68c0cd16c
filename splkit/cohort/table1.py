"""Table 1: the cohort's characteristics by cohort and by outcome within each cohort, with tests.

Descriptive statistics are formatted by ``tableone`` (Pollard et al., JAMIA Open 2018): numeric
variables as mean (SD) when they look normal and median [Q1, Q3] otherwise, categorical ones as
n (%), with missing-value counts.  The tests are chosen here, per variable and comparison, by the rules
the field uses (e.g. Wei et al., Front. Oncol. 2026):

* numeric: Welch's t-test when the Shapiro-Wilk test does not reject normality (p >= 0.05) in every
  group, else the Mann-Whitney U test (one-way ANOVA / Kruskal-Wallis for more than two groups);
* categorical (binary, categorical, ordinal): Pearson's chi-squared test (with Yates' continuity
  correction on 2 x 2 tables, as R's ``chisq.test``), or Fisher's exact test on 2 x 2 tables with an
  expected count below 5; larger tables with small expected counts keep chi-squared and say so.

A variable's normality flag (which sets both its summary and its test) is decided once, on the
outcome-by-cohort groups, so every column of the table describes the variable the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from splkit.book.format import fmt_p
from splkit.run.names import COHORT_LABELS

NORMALITY_ALPHA = 0.05


@dataclass
class TestResult:
    """One comparison: the test used, its statistic and p-value."""

    test: str
    statistic: float
    p: float


def is_normal(groups: list, alpha: float = NORMALITY_ALPHA) -> bool:
    """True when Shapiro-Wilk does not reject normality in any group (groups of < 3 values: False)."""
    for values in groups:
        values = np.asarray(values, dtype=float)
        values = values[~np.isnan(values)]
        if len(values) < 3 or np.ptp(values) == 0:
            return False
        if stats.shapiro(values).pvalue < alpha:
            return False
    return True


def compare_groups(
    values: pd.Series, groups: pd.Series, categorical: bool, normal: bool | None = None
) -> TestResult:
    """Test whether ``values`` differ between ``groups`` (missing values left out)."""
    keep = values.notna() & groups.notna()
    values, groups = values[keep], groups[keep]
    levels = sorted(groups.unique().tolist(), key=str)
    if len(levels) < 2:
        return TestResult("not tested (one group)", np.nan, np.nan)
    if categorical:
        table = pd.crosstab(values, groups)
        if table.shape[0] < 2:
            return TestResult("not tested (one level)", np.nan, np.nan)
        statistic, p, _, expected = stats.chi2_contingency(table.to_numpy())
        if expected.min() < 5:
            if table.shape == (2, 2):
                result = stats.fisher_exact(table.to_numpy())
                return TestResult("Fisher's exact", float(result.statistic), float(result.pvalue))
            return TestResult("Chi-squared (expected count < 5)", float(statistic), float(p))
        return TestResult("Chi-squared", float(statistic), float(p))
    samples = [values[groups == level].astype(float).to_numpy() for level in levels]
    if normal is None:
        normal = is_normal(samples)
    if len(samples) == 2:
        if normal:
            result = stats.ttest_ind(*samples, equal_var=False)
            return TestResult("Welch's t-test", float(result.statistic), float(result.pvalue))
        result = stats.mannwhitneyu(*samples, alternative="two-sided")
        return TestResult("Mann-Whitney U", float(result.statistic), float(result.pvalue))
    if normal:
        result = stats.f_oneway(*samples)
        return TestResult("One-way ANOVA", float(result.statistic), float(result.pvalue))
    result = stats.kruskal(*samples)
    return TestResult("Kruskal-Wallis", float(result.statistic), float(result.pvalue))


@dataclass
class TableOne:
    """Table 1 (``table``, for display) and every test behind it (``tests``, one row per comparison)."""

    table: pd.DataFrame
    tests: pd.DataFrame
    nonnormal: list[str]
    cohorts: list[str] = field(default_factory=list)  # the cohorts compared, as labelled, in order


def _display_frame(table: pd.DataFrame, positive: str, negative: str) -> pd.DataFrame:
    frame = table.copy()
    frame["outcome"] = frame["label"].map({0: negative, 1: positive})
    frame["cohort"] = frame["cohort"].map(lambda c: COHORT_LABELS.get(c, c))
    return frame


def _tableone(frame, columns, categorical, nonnormal, groupby, overall=False, order=None):
    import warnings

    from tableone import TableOne as _TableOne

    with warnings.catch_warnings():  # levels absent from a subgroup: filled as 0 (0.0) by the caller
        warnings.filterwarnings("ignore", message="Order value not found")
        result = _TableOne(
            frame,
            columns=columns,
            categorical=categorical,
            nonnormal=nonnormal,
            groupby=groupby,
            pval=False,
            missing=True,
            overall=overall,
            include_null=False,
            decimals=1,
            order=order or None,
        )
    out = result.tableone.copy()
    out.columns = [c[1] if isinstance(c, tuple) else c for c in out.columns]
    return out


def table_one(
    table: pd.DataFrame,
    types: dict[str, str],
    positive: str = "malignant",
    negative: str = "benign",
    levels: dict[str, list] | None = None,
) -> TableOne:
    """Table 1 of a cohort table (``label`` 0/1, ``cohort``, clinical variables with their ``types``).

    Columns: missing count, overall, each cohort, the p-value between cohorts (comparability), and for
    each cohort its outcome groups with the p-value between them.  ``levels`` orders the rows of
    categorical variables (e.g. the data dictionary's ``allowed``).
    """
    columns = [c for c in types if c in table.columns]
    categorical = [c for c in columns if types[c] != "numeric"]
    frame = _display_frame(table, positive, negative)
    order = {}
    for column, column_levels in (levels or {}).items():
        if column in categorical and len(column_levels):
            present = set(frame[column].dropna().map(_text))
            frame[column] = frame[column].map(lambda v: v if pd.isna(v) else _text(v))
            order[column] = [str(v) for v in column_levels if str(v) in present]
    cohorts = [COHORT_LABELS.get(c, c) for c in COHORT_LABELS if c in set(table["cohort"])]
    cohorts += sorted(set(frame["cohort"]) - set(cohorts))
    if not columns:  # an imaging-only cohort: the patient counts are all there is to describe
        return _counts_only(frame, cohorts, positive, negative)
    cells = frame["cohort"] + " / " + frame["outcome"]
    nonnormal = [
        c
        for c in columns
        if c not in categorical
        and not is_normal([frame.loc[cells == cell, c].to_numpy(float) for cell in cells.unique()])
    ]
    by_cohort = _tableone(frame, columns, categorical, nonnormal, "cohort", overall=True, order=order)
    pieces = [by_cohort[["Missing", "Overall", *cohorts]]]
    comparisons = [("cohorts", frame, "cohort")]
    for cohort in cohorts:
        part = frame[frame["cohort"] == cohort]
        sub = _tableone(part, columns, categorical, nonnormal, "outcome", order=order)
        sub = sub[[negative, positive]].rename(columns=lambda g, c=cohort: f"{c}: {g}")
        pieces.append(sub)
        comparisons.append((cohort, part, "outcome"))
    rows = []
    for name, part, group in comparisons:
        for column in columns:
            result = compare_groups(part[column], part[group], column in categorical, column not in nonnormal)
            rows.append({"variable": column, "comparison": name, **vars(result)})
    tests = pd.DataFrame(rows)
    combined = pd.concat(pieces, axis=1)
    level_rows = combined.index.get_level_values(1) != ""
    group_columns = [c for c in combined.columns if c != "Missing"]
    combined.loc[level_rows, group_columns] = combined.loc[level_rows, group_columns].fillna("0 (0.0)")
    p_columns = {"cohorts": f"p ({' vs '.join(cohorts)})", **{c: f"p ({c})" for c in cohorts}}
    first_row = {}
    for variable_label in combined.index.get_level_values(0).unique():
        name = str(variable_label).split(", ")[0]
        if name in columns:
            first_row[name] = combined.index[combined.index.get_level_values(0) == variable_label][0]
    for comparison, label in p_columns.items():
        combined[label] = ""
        for _, row in tests[tests["comparison"] == comparison].iterrows():
            if row["variable"] in first_row:
                combined.loc[first_row[row["variable"]], label] = fmt_p(row["p"], missing="–")
    combined["Test"] = ""
    for variable, group in tests.groupby("variable"):
        if variable in first_row:
            combined.loc[first_row[variable], "Test"] = " / ".join(dict.fromkeys(group["test"]))
    order = ["Missing", "Overall", *cohorts, p_columns["cohorts"]]
    for cohort in cohorts:
        order += [f"{cohort}: {negative}", f"{cohort}: {positive}", p_columns[cohort]]
    combined = combined[[*order, "Test"]]
    combined.index.names = ["Variable", "Level"]
    return TableOne(combined, tests, nonnormal, cohorts)


def _counts_only(frame: pd.DataFrame, cohorts: list[str], positive: str, negative: str) -> TableOne:
    """Table 1 of a cohort without clinical variables: one row, the patient counts."""
    row: dict[str, object] = {"Missing": "", "Overall": str(len(frame))}
    row.update({c: str(int((frame["cohort"] == c).sum())) for c in cohorts})
    row[f"p ({' vs '.join(cohorts)})"] = ""
    for cohort in cohorts:
        part = frame[frame["cohort"] == cohort]
        row[f"{cohort}: {negative}"] = str(int((part["outcome"] == negative).sum()))
        row[f"{cohort}: {positive}"] = str(int((part["outcome"] == positive).sum()))
        row[f"p ({cohort})"] = ""
    row["Test"] = ""
    index = pd.MultiIndex.from_tuples([("n", "")], names=["Variable", "Level"])
    tests = pd.DataFrame(columns=["variable", "comparison", "test", "statistic", "p"])
    return TableOne(pd.DataFrame([row], index=index), tests, [], cohorts)


def comparability(tests: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The between-cohort tests of :func:`table_one`, with a flag for p < ``alpha``."""
    out = tests[tests["comparison"] == "cohorts"][["variable", "test", "p"]].set_index("variable")
    out["differs"] = out["p"] < alpha
    return out


def _text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)
