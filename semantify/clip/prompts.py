"""Prompt templates: how a descriptor ("tall") becomes the text CLIP reads."""

from __future__ import annotations

from semantify.errors import SemantifyError

TEMPLATES: dict[str, str] = {
    "body": "a 3D render of a {} person",
    "face": "a 3D render of a {} face",
    "expression": "a 3D render of a {} face",
    "animal": "a 3D render of a {} animal",
    "generic": "a 3D render of a {}",
    "bare": "{}",  # the descriptor alone, as the paper's reference code does; kept to compare
}


def template_for(family: str, name: str | None = None) -> str:
    """The template for a model ``family``, or for ``name``.

    ``name`` is a key of :data:`TEMPLATES` or a template of its own with one ``{}``
    (e.g. ``"a photo of a {} man"``); ``None`` picks the family's template.
    """
    if name is not None:
        if name in TEMPLATES:
            return TEMPLATES[name]
        if name.count("{}") == 1:
            return name
        raise SemantifyError(
            f"unknown prompt template {name!r}; use one of {', '.join(TEMPLATES)}, or a "
            "template with one '{}' where the descriptor goes, e.g. 'a photo of a {} man'.")
    if family not in TEMPLATES or family == "bare":
        families = ", ".join(key for key in TEMPLATES if key != "bare")
        raise SemantifyError(f"no prompt template for model family {family!r}; "
                             f"families are {families}.")
    return TEMPLATES[family]


def fill(template: str, descriptor: str) -> str:
    """The prompt for ``descriptor``: ``template`` with its ``{}`` replaced."""
    if template.count("{}") != 1:
        raise SemantifyError(f"prompt template {template!r} must contain '{{}}' exactly once, "
                             "where the descriptor goes.")
    return template.replace("{}", descriptor)
