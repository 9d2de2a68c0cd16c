"""Statistics for evaluating diagnostic prediction models.

Discrimination (ROC, AUC with DeLong and bootstrap CIs, paired DeLong tests), operating points
(Youden threshold, threshold metrics with Wilson / bootstrap CIs), calibration (curves, intercept
and slope, logistic recalibration, Hosmer–Lemeshow, Brier), decision curve analysis, reclassification (NRI, IDI), and the minimum development sample size
(Riley et al.'s criteria for a binary outcome).
Labels are 0/1 with 1 = the positive class; scores are predicted probabilities.
"""

from splkit.stats.calibration import (
    HLResult,
    Recalibration,
    brier_score,
    calibration_curve,
    calibration_intercept_slope,
    hosmer_lemeshow,
    recalibrate,
    smoothed_calibration,
)
from splkit.stats.dca import TREAT_ALL, TREAT_NONE, biopsies_avoided, decision_curves, net_benefit
from splkit.stats.reclassification import idi, nri
from splkit.stats.roc import (
    AUCResult,
    DeLongTest,
    bootstrap_auc,
    bootstrap_aucs,
    delong_auc,
    delong_matrix,
    delong_test,
    roc_points,
)
from splkit.stats.samplesize import SampleSize, max_cox_snell_r2, minimum_sample_size
from splkit.stats.summary import evaluate, format_ci, performance_table
from splkit.stats.thresholds import threshold_metrics, wilson_interval, youden_threshold

__all__ = [
    "AUCResult",
    "DeLongTest",
    "HLResult",
    "Recalibration",
    "SampleSize",
    "TREAT_ALL",
    "TREAT_NONE",
    "biopsies_avoided",
    "bootstrap_auc",
    "bootstrap_aucs",
    "brier_score",
    "calibration_curve",
    "calibration_intercept_slope",
    "decision_curves",
    "delong_auc",
    "delong_matrix",
    "delong_test",
    "evaluate",
    "format_ci",
    "hosmer_lemeshow",
    "idi",
    "max_cox_snell_r2",
    "minimum_sample_size",
    "net_benefit",
    "nri",
    "performance_table",
    "recalibrate",
    "roc_points",
    "smoothed_calibration",
    "threshold_metrics",
    "wilson_interval",
    "youden_threshold",
]
