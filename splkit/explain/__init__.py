"""Chapter 6: interpretability — SHAP values of the fitted models and the cases worth explaining.

Grad-CAM maps live with the network that makes them (:mod:`splkit.deep.gradcam`).
"""

from splkit.explain.shapley import EXACT_MAX_FEATURES, ShapResult, explain_model, pick_cases

__all__ = ["EXACT_MAX_FEATURES", "ShapResult", "explain_model", "pick_cases"]
