"""Tests of splkit.clinical.encoding: imputation from training, declared levels, ordinal ranks, and
scikit-learn's estimator checks."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from splkit.clinical import ClinicalEncoder


def test_encoder_imputes_from_training_and_rejects_unseen_levels():
    train = pd.DataFrame({"age": [50.0, np.nan, 70.0, 60.0], "sex": ["male", "female", None, "male"]})
    encoder = ClinicalEncoder({"age": "numeric", "sex": "binary"}).fit(train)
    out = encoder.transform(train)
    assert list(out.columns) == ["age", "sex[male]"]
    assert out["age"].tolist() == [50.0, 60.0, 70.0, 60.0]
    assert out["sex[male]"].tolist() == [1.0, 0.0, 1.0, 1.0]  # missing -> training mode (male)
    with pytest.raises(ValueError, match="'sex'.*not seen in training"):
        encoder.transform(pd.DataFrame({"age": [1.0], "sex": ["unknown"]}))
    with pytest.raises(ValueError, match="non-numeric"):
        ClinicalEncoder({"age": "numeric"}).fit(pd.DataFrame({"age": ["old", 3]}))


def test_encoder_follows_declared_levels_and_ordinal_ranks():
    train = pd.DataFrame(
        {
            "grade": ["0", "II", "I", None, "III", "I"],
            "location": ["upper", "lower", "middle", "lower", "upper", None],
            "fever": [0.0, 1.0, 1.0, np.nan, 0.0, 1.0],
        }
    )
    types = {"grade": "ordinal", "location": "categorical", "fever": "binary"}
    levels = {"grade": ["0", "I", "II", "III"], "location": ["upper", "middle", "lower"], "fever": ["0", "1"]}
    encoder = ClinicalEncoder(types, levels).fit(train)
    out = encoder.transform(train)
    assert list(out.columns) == ["grade", "location[middle]", "location[lower]", "fever"]
    assert out["grade"].tolist() == [0.0, 2.0, 1.0, 1.0, 3.0, 1.0]  # missing -> training median rank 1
    assert out["fever"].tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    # missing -> training mode; upper and lower tie (2 each): the first in level order, upper (reference)
    assert out.loc[5, ["location[middle]", "location[lower]"]].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="outside its levels"):
        ClinicalEncoder(types, {**levels, "grade": ["0", "I"]}).fit(train)


def test_encoder_reads_binary_levels_written_as_floats():
    # cohort.csv stores 0/1 variables as 0.0/1.0; read back as text they must still match levels 0/1
    train = pd.DataFrame({"fever": ["0.0", "1.0", None, "1.0"]})
    out = ClinicalEncoder({"fever": "binary"}, {"fever": ["0", "1"]}).fit_transform(train)
    assert out["fever"].tolist() == [0.0, 1.0, 1.0, 1.0]


def test_declared_level_absent_from_training_is_coded_as_reference_with_warning():
    train = pd.DataFrame({"location": ["upper", "lower", "upper", "lower"]})
    encoder = ClinicalEncoder({"location": "categorical"}, {"location": ["upper", "middle", "lower"]}).fit(
        train
    )
    assert encoder.terms_ == ["location[lower]"]
    with pytest.warns(UserWarning, match="absent from training"):
        out = encoder.transform(pd.DataFrame({"location": ["middle", "lower"]}))
    assert out["location[lower]"].tolist() == [0.0, 1.0]


@parametrize_with_checks(
    [ClinicalEncoder()],
    expected_failed_checks=lambda estimator: {
        "check_transformer_preserve_dtypes": "transform returns a pandas DataFrame of float64 terms by "
        "design (no single .dtype)",
    },
    xfail_strict=True,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_encoder_records_its_inputs_and_checks_them():
    train = pd.DataFrame({"age": [50.0, np.nan, 70.0, 60.0], "sex": ["male", "female", None, "male"]})
    encoder = ClinicalEncoder({"age": "numeric", "sex": "binary"})
    with pytest.raises(NotFittedError):
        encoder.transform(train)
    encoder.fit(train)
    assert encoder.n_features_in_ == 2 and list(encoder.feature_names_in_) == ["age", "sex"]
    with pytest.raises(ValueError, match="without columns"):
        ClinicalEncoder().fit(train.iloc[:, :0])
    with pytest.raises(ValueError, match="'age' has no values"):
        ClinicalEncoder({"age": "numeric"}).fit(train.iloc[:0])
    with pytest.raises(TypeError, match="Sparse data"):
        ClinicalEncoder().fit(sparse.csr_matrix(np.eye(3)))
    numbers = ClinicalEncoder().fit(np.array([[1.0, 5.0], [2.0, np.nan], [3.0, 7.0]]))
    assert not hasattr(numbers, "feature_names_in_") and numbers.n_features_in_ == 2
    with pytest.raises(ValueError, match="X has 1 features, but ClinicalEncoder is expecting 2"):
        numbers.transform(np.ones((2, 1)))
