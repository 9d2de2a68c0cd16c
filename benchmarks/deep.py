"""Images per second of DTL embedding extraction (backbone forward pass on 224 x 224 crops, CPU).

    python benchmarks/deep.py                                   # EfficientNet-Lite0 (ImageNet) + ResNet-50 (random)
    python benchmarks/deep.py --backbones efficientnet_lite0 --images 64 --threads 2

ResNet-50 runs with randomly initialised weights when its ImageNet weights are not on this machine:
the speed of a forward pass does not depend on the weights' values.  Numbers taken while other work
shares the CPU are pessimistic.
"""

from __future__ import annotations

import argparse
import os
import warnings

import torch

from splkit.deep import build_backbone, measure_throughput, resolve_backbone
from splkit.deep.backbones import WeightsUnavailableError


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbones", nargs="+", default=["efficientnet_lite0", "resnet50"])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, {args.images} images, "
        f"batch {args.batch_size}"
    )
    print(f"{'backbone':<22}{'weights':<12}{'images/s':>10}")
    for name in args.backbones:
        deep = {"backbone": name, "weights": "imagenet", "allow_fallback": False}
        try:
            spec = resolve_backbone(deep)
        except WeightsUnavailableError:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = resolve_backbone({**deep, "weights": "random"}, seed=0)
        backbone = build_backbone(spec)
        rate = measure_throughput(
            backbone, n_images=args.images, batch_size=args.batch_size, n_jobs=args.threads
        )
        print(f"{name:<22}{spec.weights:<12}{rate:>10.1f}")


if __name__ == "__main__":
    main()
