"""splkit: ultrasound deep learning radiomics of subpleural pulmonary lesions, as a reproducible book."""

__version__ = "0.1.0"
