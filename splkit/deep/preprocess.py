"""ROI crop for the CNN, and the exact inverse mapping from crop to full-frame coordinates.

The lesion's bounding box (from the mask) is widened by ``margin`` of its longer side on each side
and made square around the box centre, so the aspect ratio is kept: the shorter side is padded with the
surrounding image (not with an artificial black band, whose edges the CNN would see as structure), and
only what falls outside the frame is padded with black, the ultrasound background.  The square is
resized to ``size`` x ``size`` (bilinear, anti-aliased), replicated to three channels and normalised
with the backbone's own mean and standard deviation.  :class:`CropGeometry` records the square so maps
computed on the crop (Grad-CAM) go back onto the full frame.

Coordinates are continuous pixel coordinates with pixel ``i`` covering ``[i, i + 1)``, so pixel centres
sit at ``i + 0.5``; the resize is the half-pixel-centred bilinear map of ``torch.nn.functional.interpolate``
with ``align_corners=False``, under which crop and frame coordinates are related by a scale and a shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

#: Version of the preprocessing code; part of the embedding cache key.
PREPROCESS_VERSION = "2"


@dataclass(frozen=True)
class CropGeometry:
    """Where a ``size`` x ``size`` network input came from in the frame.

    ``top, left``: frame coordinates of the square's top-left corner (negative when it starts outside
    the frame); ``side``: the square's side in frame pixels; ``size``: the network input size.
    """

    frame_shape: tuple[int, int]
    top: int
    left: int
    side: int
    size: int

    @property
    def scale(self) -> float:
        """Frame pixels per crop pixel."""
        return self.side / self.size

    def to_frame(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous crop coordinates (0…size) → continuous frame coordinates."""
        return np.asarray(rows, float) * self.scale + self.top, np.asarray(
            cols, float
        ) * self.scale + self.left

    def to_crop(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous frame coordinates → continuous crop coordinates (inverse of :meth:`to_frame`)."""
        return (np.asarray(rows, float) - self.top) / self.scale, (
            np.asarray(cols, float) - self.left
        ) / self.scale

    def overlap(self) -> tuple[slice, slice, slice, slice]:
        """``(frame rows, frame cols, square rows, square cols)`` slices of the square inside the frame."""
        n_rows, n_cols = self.frame_shape
        r0, r1 = max(self.top, 0), min(self.top + self.side, n_rows)
        c0, c1 = max(self.left, 0), min(self.left + self.side, n_cols)
        return (
            slice(r0, r1),
            slice(c0, c1),
            slice(r0 - self.top, r1 - self.top),
            slice(c0 - self.left, c1 - self.left),
        )

    def paste(self, crop_map: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Map a ``size`` x ``size`` array (e.g. a Grad-CAM heatmap) back onto the full frame.

        The map is resized to the square (bilinear), and the part inside the frame is placed in an array
        of the frame's shape filled with ``fill``.
        """
        crop_map = np.asarray(crop_map, dtype=np.float32)
        if crop_map.shape != (self.size, self.size):
            raise ValueError(f"crop map has shape {crop_map.shape}, expected {(self.size, self.size)}")
        square = _resize(torch.from_numpy(crop_map)[None, None], self.side)[0, 0].numpy()
        frame = np.full(self.frame_shape, fill, dtype=np.float32)
        rows, cols, sq_rows, sq_cols = self.overlap()
        frame[rows, cols] = square[sq_rows, sq_cols]
        return frame

    def to_dict(self) -> dict:
        return asdict(self)


def _resize(tensor: torch.Tensor, size: int) -> torch.Tensor:
    if tensor.shape[-1] == size and tensor.shape[-2] == size:
        return tensor
    antialias = tensor.shape[-1] > size
    return F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False, antialias=antialias)


def crop_geometry(mask: np.ndarray, margin: float, size: int = 224) -> CropGeometry:
    """The square around the mask's bounding box, ``margin`` x its longer side added on each side.

    Raises ``ValueError`` for an empty mask or a negative margin.
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
    box_h, box_w = rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]
    longer = max(box_h, box_w)
    side = int(longer + 2 * round(margin * longer))
    top = int(rows[0] - (side - box_h) // 2)  # centred on the box (to half a pixel)
    left = int(cols[0] - (side - box_w) // 2)
    return CropGeometry(
        frame_shape=(int(mask.shape[0]), int(mask.shape[1])), top=top, left=left, side=side, size=int(size)
    )


def crop_image(image: np.ndarray, geometry: CropGeometry) -> np.ndarray:
    """The square crop resized to ``size`` x ``size`` (float32, the image's intensity scale)."""
    image = np.asarray(image, dtype=np.float32)
    if image.shape != geometry.frame_shape:
        raise ValueError(f"image has shape {image.shape}, the mask {geometry.frame_shape}")
    square = np.zeros((geometry.side, geometry.side), dtype=np.float32)
    rows, cols, sq_rows, sq_cols = geometry.overlap()
    square[sq_rows, sq_cols] = image[rows, cols]
    return _resize(torch.from_numpy(square)[None, None], geometry.size)[0, 0].numpy()


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
        "pad": "square-of-image-context",
        "resize": "bilinear-antialias",
        "version": PREPROCESS_VERSION,
    }
