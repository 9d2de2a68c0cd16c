"""The Grad-CAM target layer: a per-channel reference subtracted from the last feature map."""

from __future__ import annotations

import torch

from splkit.deep.reference import BASELINES, Reference


def test_reference_subtracts_per_channel_and_zero_is_the_identity():
    x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    reference = torch.tensor([1.0, 2.0, 3.0])
    shifted = Reference(reference)(x)
    torch.testing.assert_close(shifted, x - reference.reshape(1, 3, 1, 1))
    torch.testing.assert_close(Reference(torch.zeros(3))(x), x)


def test_reference_is_a_saved_buffer_not_a_parameter():
    layer = Reference(torch.ones(4))
    assert list(layer.state_dict()) == ["reference"] and not list(layer.parameters())
    assert layer.reference.shape == (1, 4, 1, 1)


def test_baselines():
    assert BASELINES == ("training_mean", "zero")
