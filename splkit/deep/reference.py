"""The Grad-CAM target layer shared by both DTL networks: the last feature map measured from a reference.

Both the PCA surrogate (:class:`splkit.deep.gradcam.DTLClassifier`) and the fine-tuned network
(:class:`splkit.deep.finetune.FineTunedDTL`) are linear after the backbone's last convolutional block, so
subtracting a reference activation there makes the Grad-CAM map each location's contribution to the
logit *relative to that reference* (the reference-point idea of DeepLIFT, Shrikumar et al., ICML 2017).
"""

from __future__ import annotations

import torch
from torch import nn

#: The reference activations a Grad-CAM layer can be measured from (``deep.gradcam_baseline``).
BASELINES = ("training_mean", "zero")


class Reference(nn.Module):
    """Subtracts a per-channel reference activation from the last feature map (the Grad-CAM target layer).

    With the zero reference this is the identity, and Grad-CAM is the textbook one on the backbone's last
    convolutional block.  With the training-mean reference the map decomposes the logit's deviation from
    the average training patient (see :class:`splkit.deep.gradcam.DTLClassifier`).
    """

    def __init__(self, reference: torch.Tensor):
        super().__init__()
        self.register_buffer("reference", reference.reshape(1, -1, 1, 1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.reference
