"""ROI crop for the CNN, and the exact inverse mapping from crop to full-frame coordinates.

The lesion's bounding box (from the mask) is widened by ``margin`` of its height/width on each side and
clipped to the frame; the crop is padded with black (the ultrasound background) to a square so the
aspect ratio is kept, resized to ``size`` x ``size`` (bilinear, anti-aliased), replicated to three
channels and normalised with the backbone's own mean and standard deviation.  :class:`CropGeometry`
records the crop so maps computed on the crop (Grad-CAM) go back onto the full frame.

Coordinates are continuous pixel coordinates with pixel ``i`` covering ``[i, i + 1)``, so pixel centres
sit at ``i + 0.5``; the resize is the half-pixel-centred bilinear map of ``torch.nn.functional.interpolate``
with ``align_corners=False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

#: Version of the preprocessing code; part of the embedding cache key.
PREPROCESS_VERSION = "1"


@dataclass(frozen=True)
class CropGeometry:
    """Where a ``size`` x ``size`` network input came from in the frame.

    ``row0, col0``: top-left of the (clipped) crop in the frame; ``height, width``: its size;
    ``side``: side of the padded square; ``pad_top, pad_left``: where the crop sits in the square.
    """

    frame_shape: tuple[int, int]
    row0: int
    col0: int
    height: int
    width: int
    side: int
    pad_top: int
    pad_left: int
    size: int

    @property
    def scale(self) -> float:
        """Frame pixels per crop pixel."""
        return self.side / self.size

    def to_frame(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous crop coordinates (0…size) → continuous frame coordinates."""
        rows = np.asarray(rows, dtype=float) * self.scale - self.pad_top + self.row0
        cols = np.asarray(cols, dtype=float) * self.scale - self.pad_left + self.col0
        return rows, cols

    def to_crop(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous frame coordinates → continuous crop coordinates (inverse of :meth:`to_frame`)."""
        rows = (np.asarray(rows, dtype=float) - self.row0 + self.pad_top) / self.scale
        cols = (np.asarray(cols, dtype=float) - self.col0 + self.pad_left) / self.scale
        return rows, cols

    def paste(self, crop_map: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Map a ``size`` x ``size`` array (e.g. a Grad-CAM heatmap) back onto the full frame.

        The map is resized to the padded square (bilinear), the padding is cut off, and the result is
        placed at the crop's position in an array of the frame's shape filled with ``fill``.
        """
        crop_map = np.asarray(crop_map, dtype=np.float32)
        if crop_map.shape != (self.size, self.size):
            raise ValueError(f"crop map has shape {crop_map.shape}, expected {(self.size, self.size)}")
        square = _resize(torch.from_numpy(crop_map)[None, None], self.side)[0, 0].numpy()
        frame = np.full(self.frame_shape, fill, dtype=np.float32)
        window = square[self.pad_top : self.pad_top + self.height, self.pad_left : self.pad_left + self.width]
        frame[self.row0 : self.row0 + self.height, self.col0 : self.col0 + self.width] = window
        return frame

    def to_dict(self) -> dict:
        return asdict(self)


def _resize(tensor: torch.Tensor, size: int) -> torch.Tensor:
    if tensor.shape[-1] == size and tensor.shape[-2] == size:
        return tensor
    antialias = tensor.shape[-1] > size
    return F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=antialias)


def crop_geometry(mask: np.ndarray, margin: float, size: int = 224) -> CropGeometry:
    """The crop of the mask's bounding box widened by ``margin`` (fraction of the box) on each side.

    Raises ``ValueError`` for an empty mask.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise ValueError("mask is empty (no lesion pixel)")
    if margin < 0:
        raise ValueError(f"crop margin must be >= 0, got {margin}")
    n_rows, n_cols = mask.shape
    box_h, box_w = rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]
    grow_r, grow_c = int(round(margin * box_h)), int(round(margin * box_w))
    r0, r1 = max(rows[0] - grow_r, 0), min(rows[-1] + 1 + grow_r, n_rows)
    c0, c1 = max(cols[0] - grow_c, 0), min(cols[-1] + 1 + grow_c, n_cols)
    height, width = int(r1 - r0), int(c1 - c0)
    side = max(height, width)
    return CropGeometry(
        frame_shape=(int(n_rows), int(n_cols)),
        row0=int(r0),
        col0=int(c0),
        height=height,
        width=width,
        side=side,
        pad_top=(side - height) // 2,
        pad_left=(side - width) // 2,
        size=int(size),
    )


def crop_image(image: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """The padded, resized gray crop (``size`` x ``size``, float32, the image's intensity scale)."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != geometry.frame_shape:
        raise ValueError(f"image has shape {image.shape}, the mask {geometry.frame_shape}")
    square = np.zeros((geometry.side, geometry.side), dtype=np.float32)
    g = geometry
    square[g.pad_top : g.pad_top + g.height, g.pad_left : g.pad_left + g.width] = image[
        g.row0 : g.row0 + g.height, g.col0 : g.col0 + g.width
    ]
    return _resize(torch.from_numpy(square)[None, None], g.size)[0, 0].numpy()


def prepare_crop(
    image: np.ndarray, mask: np.ndarray, margin: float, size: int = 224
) -> tuple[np.ndarray, CropGeometry]:
    """Crop, pad and resize a 2-D gray image around its mask; returns ``(crop, geometry)``.

    The crop is on the 0–1 scale (8-bit intensities divided by 255, clipped).
    """
    image = np.asarray(image)
    mask = np.asarray(mask)
    if image.shape != mask.shape:
        raise ValueError(f"image shape {image.shape} differs from mask shape {mask.shape}")
    geometry = crop_geometry(mask, margin, size)
    crop = np.clip(crop_image(image, geometry) / 255.0, 0.0, 1.0).astype(np.float32)
    return crop, geometry


def to_network_input(
    crops: np.ndarray | Sequence[np.ndarray], mean: Sequence[float], std: Sequence[float]
) -> torch.Tensor:
    """Gray crops (N x H x W, 0–1) → normalised three-channel tensor N x 3 x H x W."""
    x = torch.as_tensor(np.asarray(crops, dtype=np.float32))
    if x.ndim == 2:
        x = x[None]
    x = x[:, None].expand(-1, 3, -1, -1)
    mean_t = torch.tensor(mean, dtype=torch.float32)[None, :, None, None]
    std_t = torch.tensor(std, dtype=torch.float32)[None, :, None, None]
    return ((x - mean_t) / std_t).contiguous()


def preprocess_settings(deep) -> dict:
    """The preprocessing settings that change a crop (part of the embedding cache key)."""
    return {
        "crop_margin": float(deep["crop_margin"]),
        "image_size": int(deep["image_size"]),
        "pad": "black-square",
        "resize": "bilinear-antialias",
        "version": PREPROCESS_VERSION,
    }
