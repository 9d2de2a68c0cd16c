"""splkit's fast radiomics engine: pyradiomics' features for true 2-D images, same names, same values.

pyradiomics stays the reference (``radiomics.engine: pyradiomics``); this engine computes the same
features for the presets it supports (:func:`~splkit.radiomics.fast.support.unsupported`), several times
faster per CPU-second:

- every filter computes the ROI's bounding box only (:mod:`~.filters`; LoG through a bit-exact copy of
  ITK's recursive Gaussian, :mod:`~.gaussian`);
- each image type is binned once (:mod:`~.discretise`) and shared by all feature classes;
- each class builds its matrix once with pyradiomics' C kernels and computes all its features from it
  (:mod:`~.firstorder`, :mod:`~.glcm`, :mod:`~.texture`, :mod:`~.ngtdm`), shape2D with pyradiomics' class.

``tests/radiomics/test_fast_*.py`` compare every feature with pyradiomics';
``benchmarks/radiomics_equality.py`` does it on a whole cohort.
"""

from splkit.radiomics.fast.engine import FastExtractor, make_extractor
from splkit.radiomics.fast.support import UnsupportedPresetError, choose_engine, unsupported

__all__ = ["FastExtractor", "UnsupportedPresetError", "choose_engine", "make_extractor", "unsupported"]
