"""CUDA out-of-memory during training: halve the batch and go on, or fail in one line.

There is no GPU here, so a model raises torch.cuda.OutOfMemoryError itself whenever a
batch is larger than what it pretends fits."""

import numpy as np
import pytest
import torch

from implicit3d.errors import TrainingError
from implicit3d.training import TrainConfig, train, train_with_retry


class FitsOnly(torch.nn.Module):
    """A small MLP that 'runs out of memory' on batches above `limit` points."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit, self.sizes = limit, []
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def forward(self, x):
        if self.training:
            self.sizes.append(len(x))
        if self.training and len(x) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.net(x).squeeze(-1)


def data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
    return x, (np.linalg.norm(x, axis=1) - 0.5).astype(np.float32)


def test_out_of_memory_halves_the_batch_and_keeps_training():
    x, y = data()
    model = FitsOnly(limit=700)
    cfg = TrainConfig(steps=10, batch_size=3000, val_every=5)
    result = train(model, x, y, x[:200], y[:200], cfg, torch.device("cpu"), progress=False)
    assert result.steps == 10 and result.batch_size == 375  # 3000 -> 1500 -> 750 -> 375
    assert model.sizes[:4] == [3000, 1500, 750, 375]
    assert set(model.sizes[4:]) == {375}  # the smaller batch sticks for the rest of the run
    assert np.isfinite(result.best_val_loss)


def test_out_of_memory_at_the_smallest_batch_fails_in_one_line():
    x, y = data()
    with pytest.raises(TrainingError, match=r"^out of GPU memory even at batch size 256 \(use device: cpu"):
        train_with_retry(lambda: FitsOnly(limit=10), x, y, x, y, cfg=TrainConfig(steps=3, batch_size=1024),
                         device=torch.device("cpu"), progress=False)


def test_no_out_of_memory_keeps_configured_batch():
    x, y = data()
    result = train(FitsOnly(limit=10**9), x, y, x, y, TrainConfig(steps=3, batch_size=512, val_every=3),
                   torch.device("cpu"), progress=False)
    assert result.batch_size == 512
