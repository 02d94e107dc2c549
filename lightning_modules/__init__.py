"""Lightning orchestration: dataset generation and mapper training."""

from semantify.compat import ensure_torchvision

ensure_torchvision()  # lightning imports torchmetrics, which imports torchvision
