"""``python -m lightning_modules fit --config configs/MODEL.yaml``: mapper training, LightningCLI.

The config's ``model`` section is :class:`MapperModule`, ``data`` is :class:`SliderDataModule`,
``writer`` the :class:`SliderSetWriter` (``writer.out``: the slider set folder) and
``early_stopping`` Lightning's EarlyStopping on the validation vertex error.
"""

from __future__ import annotations

import sys

from semantify.errors import SemantifyError


def main(args: list[str] | None = None) -> int:
    """Run the LightningCLI; a user error prints one line and returns 2."""
    from lightning.pytorch.callbacks import EarlyStopping
    from lightning.pytorch.cli import LightningCLI

    from lightning_modules import quiet_lightning
    from lightning_modules.train import (EARLY_STOPPING, MapperModule, SliderDataModule,
                                         SliderSetWriter, trainer_defaults)

    class SemantifyCLI(LightningCLI):
        def add_arguments_to_parser(self, parser) -> None:
            parser.add_lightning_class_args(SliderSetWriter, "writer")
            parser.add_lightning_class_args(EarlyStopping, "early_stopping")
            parser.set_defaults({f"early_stopping.{name}": value
                                 for name, value in EARLY_STOPPING.items()})

    quiet_lightning()
    try:
        SemantifyCLI(MapperModule, SliderDataModule, args=args,
                     trainer_defaults=trainer_defaults(), save_config_callback=None,
                     seed_everything_default=0)
    except SemantifyError as error:
        print(f"python -m lightning_modules: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
