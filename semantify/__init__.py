"""Semantify: control 3D morphable models with words.

    from semantify import SliderSet
    s = SliderSet.load("sliders/anny-body-metric")
    mesh = s.shape(height_cm=180, mass_kg=80)
    mesh.save("body.glb")
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``SliderSet`` and ``Shape`` on first use, so ``import semantify`` stays light."""
    if name in ("SliderSet", "Shape"):
        from semantify.sets import sliders

        return getattr(sliders, name)
    raise AttributeError(f"module 'semantify' has no attribute {name!r}")
