"""Time the optional fine-tuning of chapter 4 (``deep.finetune: true``) on random crops.

    python benchmarks/finetune.py --backbone efficientnet_lite0 --n 487 --epochs 10
    python benchmarks/finetune.py --backbone resnet50 --device cuda        # on a GPU machine

Prints the device, seconds for the whole fine-tuning (frozen pass included) and per epoch.  ResNet-50
uses randomly initialised weights unless its ImageNet file is in ``$TORCH_HOME/hub/checkpoints`` (the
timing does not depend on the weights' values).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from splkit.deep import build_backbone, fine_tune, resolve_backbone
from splkit.deep.backbones import WeightsUnavailableError


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backbone", default="efficientnet_lite0", choices=["efficientnet_lite0", "resnet50"]
    )
    parser.add_argument("--n", type=int, default=487, help="training crops (default: the default cohort's)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    args = parser.parse_args()

    deep = {"backbone": args.backbone, "weights": "imagenet", "allow_fallback": False, "weights_path": None}
    try:
        spec = resolve_backbone(deep)
    except WeightsUnavailableError:
        spec = resolve_backbone({**deep, "weights": "random"}, seed=0)
    backbone = build_backbone(spec)
    rng = np.random.default_rng(0)
    crops = rng.random((args.n, 224, 224), dtype=np.float32)
    labels = np.arange(args.n) % 2
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    start = time.perf_counter()
    _, history = fine_tune(
        backbone,
        crops,
        labels,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=0,
        device=device,
        progress=False,
    )
    seconds = time.perf_counter() - start
    name = torch.cuda.get_device_name() if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"{spec.name} ({spec.weights} weights), {args.n} crops, {args.epochs} epochs on {name}")
    print(
        f"fine-tuning: {seconds:.1f} s in all, {seconds / args.epochs:.2f} s per epoch (frozen pass included)"
    )
    print(f"training loss: {history['training loss'].iloc[0]:.3f} -> {history['training loss'].iloc[-1]:.3f}")


if __name__ == "__main__":
    main()
