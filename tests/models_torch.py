"""Small real PyTorch models for the flavor and serving tests (built once per session in conftest)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def rows(n: int, width: int = 4, seed: int = 0) -> np.ndarray:
    """``n`` float32 rows of standard normal values."""
    return np.random.default_rng(seed).normal(size=(n, width)).astype(np.float32)


def train(module: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor, steps: int = 20) -> torch.nn.Module:
    """A few SGD steps on the MSE loss; returns the module in eval mode."""
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(inputs), targets)
        loss.backward()
        optimizer.step()
    return module.eval()


def make_mlp() -> torch.nn.Module:
    """float32 [N, 4] -> [N, 2]."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    inputs = torch.randn(64, 4)
    return train(module, inputs, inputs[:, :2] * 2 - inputs[:, 2:])


class TinyCNN(torch.nn.Module):
    """Images float32 [N, 1, 8, 8] -> scores [N, 3]."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool2d(2)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))


def make_cnn() -> torch.nn.Module:
    torch.manual_seed(1)
    images = torch.randn(32, 1, 8, 8)
    return train(TinyCNN(), images, torch.randn(32, 3))


class TwoTowers(torch.nn.Module):
    """Two named inputs (left [N, 3], right [N, 5]) and two named outputs (sum, diff), each [N, 2]."""

    def __init__(self) -> None:
        super().__init__()
        self.left = torch.nn.Linear(3, 2)
        self.right = torch.nn.Linear(5, 2)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"sum": self.left(left) + self.right(right), "diff": self.left(left) - self.right(right)}


def make_towers() -> torch.nn.Module:
    torch.manual_seed(2)
    return TwoTowers().eval()


def native_predict(module: torch.nn.Module, data: Any) -> Any:
    """The module's own output on numpy data (a dict of arrays goes in by keyword), as numpy."""
    with torch.no_grad():
        if isinstance(data, dict):
            output = module(**{name: torch.tensor(value) for name, value in data.items()})
        else:
            output = module(torch.tensor(data))
    if isinstance(output, dict):
        return {name: value.numpy() for name, value in output.items()}
    return output.numpy()
