"""splkit.study.predict and ``splkit predict``: score new patients with a saved study.

The fast tests check the command's plumbing (errors, the key file, the report hook); the slow ones
score the smoke cohort with the smoke book's saved study (the shared ``smoke_run`` fixture): the
validation patients' scores equal ``predictions.csv``, a copy of a few patients without labels (some
images as NRRD) scores the same, and a missing clinical predictor or other backbone weights stop the
command with one clear message.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from splkit import cli
from splkit.cohort import load_cohort
from splkit.config import load_profile
from splkit.run import predictions
from splkit.study import predict
from splkit.study.ood import FLAG_COLUMNS, OOD_FILE, TrainingRange

TOLERANCE = 1e-12


# ------------------------------------------------------------------------------------ fast


def test_report_writer_unavailable(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(predict, "REPORT_MODULE", "splkit.study._no_such_report_module")
    with pytest.raises(predict.ReportUnavailable, match="not available"):
        predict.report_writer()
    # checked before the study is even read
    argv = ["predict", "--study", str(tmp_path / "nothing"), "--cohort", str(tmp_path), "--out", "x.csv"]
    assert cli.main([*argv, "--report", str(tmp_path / "reports")]) == 1
    assert "per-patient reports (--report) are not available" in capsys.readouterr().err


def test_not_a_study_is_one_clear_error(tmp_path, capsys):
    argv = ["predict", "--study", str(tmp_path), "--cohort", str(tmp_path), "--out", str(tmp_path / "s.csv")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "is not a saved study" in err and "Traceback" not in err
    assert not (tmp_path / "s.csv").exists()


def test_write_key(tmp_path):
    cohort = SimpleNamespace(pseudonym_key=lambda: {"B-2": "P0001", "A-1": "P0002"})
    path = predict.write_key(cohort, tmp_path / "key.csv")
    key = pd.read_csv(path, dtype=str)
    assert list(key.columns) == ["pseudonym", "patient_id"]
    assert key.values.tolist() == [["P0001", "B-2"], ["P0002", "A-1"]]


def test_features_once_restores_the_method():
    class Fake:
        def features(self, cohort, stages=()):
            return "computed"

    fake = Fake()
    with predict.features_once(fake, "given"):
        assert fake.features(None, ("deep",)) == "given"
    assert fake.features(None) == "computed"


# ------------------------------------------------------------------------------------ smoke study


def study_copy(run: Path, folder: Path) -> Path:
    """The run's saved study copied to ``folder``, with its training range (``ood.joblib``)."""
    shutil.copytree(run / "study", folder)
    if not (folder / OOD_FILE).exists():
        TrainingRange.from_run(run).save(folder)
    return folder


def run_predict(capsys, *argv) -> tuple[int, str]:
    code = cli.main(["predict", *map(str, argv)])
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_predict_reproduces_the_validation_scores(smoke_run, tmp_path, capsys, monkeypatch):
    run = Path(smoke_run[0])
    study = study_copy(run, tmp_path / "study")
    data = load_profile("smoke", run_dir=run).data_path
    calls = []
    fake = types.ModuleType(predict.REPORT_MODULE)
    fake.write_reports = lambda *args: calls.append(args)
    monkeypatch.setitem(sys.modules, predict.REPORT_MODULE, fake)
    out, key, reports = tmp_path / "scores.csv", tmp_path / "key.csv", tmp_path / "reports"
    code, err = run_predict(
        capsys, "--study", study, "--cohort", data, "--out", out, "--key", key, "--report", reports
    )
    assert code == 0, err
    scores = pd.read_csv(out, index_col="patient")
    manifest = json.loads((study / "manifest.json").read_text())
    models = manifest["models"]
    expected_columns = ["cohort", "label"]
    for model in models:
        expected_columns += [f"{model}_probability", f"{model}_class"]
    assert list(scores.columns) == [*expected_columns, *FLAG_COLUMNS]
    # the folder's salt gives the run's pseudonyms: the validation rows are predictions.csv's
    table = predictions.load(run)
    validation = table[table["cohort"] == "validation"]
    expected = validation.pivot(index="patient", columns="model", values="score")
    for model in models:
        difference = np.abs(scores.loc[expected.index, f"{model}_probability"] - expected[model])
        assert difference.max() <= TOLERANCE, model
        classes = (scores[f"{model}_probability"] >= manifest["thresholds"][model]).astype(int)
        assert (scores[f"{model}_class"] == classes).all()
    labels = validation.drop_duplicates("patient").set_index("patient")["label"]
    assert (scores.loc[labels.index, "label"] == labels).all()
    assert set(scores["cohort"]) == {"new"}
    # training patients lie inside the training range by construction
    split = pd.read_csv(run / "split.csv", index_col="patient")["cohort"]
    assert (scores.loc[split.index[split == "train"], "ood_n_features"] == 0).all()
    # the user's ids only in the key file
    pairs = pd.read_csv(key, dtype=str)
    assert list(pairs.columns) == ["pseudonym", "patient_id"] and len(pairs) == len(scores)
    text = out.read_text()
    assert not any(patient_id in text for patient_id in pairs["patient_id"])
    # the report hook: write_reports(study, cohort, scores, out_dir)
    ((got_study, got_cohort, got_scores, got_dir),) = calls
    assert got_dir == reports and len(got_cohort.table) == len(scores)
    assert got_scores.to_csv() == out.read_text()  # the scores written are the scores passed


@pytest.mark.slow
def test_predict_new_patients_and_clear_errors(smoke_run, tmp_path, capsys, monkeypatch):
    run = Path(smoke_run[0])
    study = study_copy(run, tmp_path / "study")
    data = load_profile("smoke", run_dir=run).data_path
    table = predictions.load(run)
    validation = table[table["cohort"] == "validation"].pivot(
        index="patient", columns="model", values="score"
    )
    ids = {p: i for i, p in load_cohort(data).pseudonym_key().items()}
    chosen = [ids[p] for p in validation.index[:5]]
    # a copy of five validation patients: no label column, two images as NRRD (header spacing too)
    new = tmp_path / "new"
    for folder in ("images", "masks"):
        (new / folder).mkdir(parents=True)
    clinical = pd.read_csv(data / "clinical.csv", dtype=str, keep_default_na=False)
    clinical = clinical[clinical["patient_id"].isin(chosen)].drop(columns="label")
    clinical.to_csv(new / "clinical.csv", index=False)
    shutil.copy(data / "variables.yaml", new / "variables.yaml")
    for i, patient_id in enumerate(chosen):
        shutil.copy(data / "masks" / f"{patient_id}.png", new / "masks")
        if i < 2:
            image = sitk.ReadImage(str(data / "images" / f"{patient_id}.png"))
            image.SetSpacing((0.25, 0.25))
            sitk.WriteImage(image, str(new / "images" / f"{patient_id}.nrrd"))
        else:
            shutil.copy(data / "images" / f"{patient_id}.png", new / "images")
    out, key = tmp_path / "scores.csv", tmp_path / "key.csv"
    code, err = run_predict(capsys, "--study", study, "--cohort", new, "--out", out, "--key", key)
    assert code == 0, err
    scores = pd.read_csv(out, index_col="patient")
    assert scores["label"].isna().all() and len(scores) == 5
    pseudonym_to_id = pd.read_csv(key, dtype=str).set_index("pseudonym")["patient_id"]
    book = validation.loc[[next(p for p, i in ids.items() if i == pseudonym_to_id[q]) for q in scores.index]]
    for model in validation.columns:
        assert np.abs(scores[f"{model}_probability"].to_numpy() - book[model].to_numpy()).max() <= TOLERANCE

    # a clinical predictor of the study missing from clinical.csv: one message naming it
    predictor = json.loads((study / "manifest.json").read_text())["clinical"]["predictors"][0]
    clinical.drop(columns=predictor).to_csv(new / "clinical.csv", index=False)
    variables = (new / "variables.yaml").read_text()
    declared = yaml.safe_load(variables)
    declared.pop(predictor, None)  # a declared variable without its column is a problem of its own
    (new / "variables.yaml").write_text(yaml.safe_dump(declared))
    code, err = run_predict(capsys, "--study", study, "--cohort", new, "--out", tmp_path / "x.csv")
    assert code == 1 and "Traceback" not in err
    assert f"lacks the clinical predictor '{predictor}'" in err
    clinical.to_csv(new / "clinical.csv", index=False)
    (new / "variables.yaml").write_text(variables)

    # an image in a format outside the data contract (BMP): one message naming the file, before scoring
    first = new / "images" / f"{chosen[2]}.png"
    sitk.WriteImage(sitk.ReadImage(str(first)), str(first.with_suffix(".bmp")))
    first.rename(first.with_suffix(".keep"))
    code, err = run_predict(capsys, "--study", study, "--cohort", new, "--out", tmp_path / "w.csv")
    assert code == 1 and "Traceback" not in err
    assert f"images/{chosen[2]}.bmp: unsupported image file type" in err
    first.with_suffix(".bmp").unlink()
    first.with_suffix(".keep").rename(first)

    # other backbone weights: one message naming the expected file and sha256
    deep = json.loads((study / "manifest.json").read_text())["deep"]
    monkeypatch.setattr("splkit.deep.stage.sha256_file", lambda path: "0" * 64)
    code, err = run_predict(capsys, "--study", study, "--cohort", new, "--out", tmp_path / "y.csv")
    assert code == 1 and "Traceback" not in err
    assert deep["weights_file"] in err and deep["weights_sha256"] in err
    monkeypatch.undo()

    # a study without its training range
    manifest = json.loads((study / "manifest.json").read_text())
    if OOD_FILE not in manifest.get("files", {}):
        (study / OOD_FILE).unlink()
        code, err = run_predict(capsys, "--study", study, "--cohort", new, "--out", tmp_path / "z.csv")
        assert code == 1 and "lacks its training range" in err
