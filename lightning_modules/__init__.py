"""Lightning orchestration: dataset generation and mapper training."""

import logging
import warnings

from semantify.compat import ensure_torchvision

ensure_torchvision()  # lightning imports torchmetrics, which imports torchvision


def quiet_lightning() -> None:
    """Keep Lightning's info lines (tips, "GPU available") and deprecation warnings, its own
    and those its code sets off in torch, off the terminal; its other warnings stay."""
    from lightning.fabric.utilities.rank_zero import LightningDeprecationWarning

    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=LightningDeprecationWarning)
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"lightning\b")
