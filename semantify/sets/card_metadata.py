"""The YAML metadata of a slider set's model card on the Hugging Face Hub, merged at push time.

The card body (what the set does, how it was built, its figures) is written beside the set as
``README.md``; :func:`merge_card` puts this module's front matter on top of it, keeping the
body and any metadata keys it does not own, or writes a minimal card when the set has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

LIBRARY_NAME = "semantify"
BASE_TAGS = ("semantify", "3d", "morphable-model", "sliders")
# Keys this module owns: a card's own values for them are replaced at push time.
OWNED_KEYS = ("library_name", "base_model", "license", "license_name", "license_link")


def front_matter(model_id: str, family: str, clip) -> dict:
    """The card metadata of a set that drives ``model_id`` (of ``family``: body, face, ...),
    trained with ``clip`` (a :class:`semantify.clip.ClipSpec`, or None for a metric-only set).

    ``base_model`` is the Hub repository of the CLIP weights when they come from one; sets
    trained with random CLIP weights are tagged ``not-semantic``, those of the geometry test
    encoder ``test-encoder``.
    """
    from semantify.models.licences import licence_for

    licence = licence_for(model_id)
    tags = [*BASE_TAGS, family, licence.tag]
    metadata: dict = {"library_name": LIBRARY_NAME}
    if clip is not None:
        tags.append("clip")
        if not clip.is_semantic:
            tags.append("not-semantic")
        if clip.is_geometry:
            tags.append("test-encoder")
        base = _clip_repo(clip)
        if base:
            metadata["base_model"] = base
    else:
        tags.append("measurements")
    metadata["tags"] = list(dict.fromkeys(tags))
    metadata.update(licence.front_matter())
    return metadata


def _clip_repo(spec) -> str | None:
    from semantify.clip.loading import hub_repo_id

    return hub_repo_id(spec)


def merge_card(readme: str | None, metadata: Mapping, body: str) -> str:
    """``readme`` (or, when None, ``body``) with ``metadata`` as its YAML front matter.

    Keys in :data:`OWNED_KEYS` take ``metadata``'s values; tags are the union (the card's
    first); every other key of the card's own front matter stays.
    """
    from huggingface_hub import ModelCard, ModelCardData

    text = body if readme is None else readme
    if not text.lstrip().startswith("---"):
        text = "---\n{}\n---\n" + text
    card = ModelCard(text, ignore_metadata_errors=True)
    data = {k: v for k, v in card.data.to_dict().items() if k not in OWNED_KEYS}
    tags = list(dict.fromkeys([*(data.pop("tags", None) or []), *metadata.get("tags", [])]))
    merged = {**{k: v for k, v in metadata.items() if k != "tags"}, "tags": tags, **data}
    card.data = ModelCardData(**merged)
    return str(card)


def minimal_body(repo_id: str, model_id: str, sliders: Sequence, clip_label: str | None,
                 licence_statement: str) -> str:
    """A short card body for a set that has no README.md: what it is, how to load it, its
    sliders (objects with name, low, high, default, unit) and its licence."""
    rows = "\n".join(f"| {s.name} | {s.low:.4g} | {s.high:.4g} | {s.default:.4g} | "
                     f"{s.unit or ''} |" for s in sliders)
    clip = (f"CLIP: {clip_label}." if clip_label else
            "No CLIP: every slider is a body measurement.")
    return (
        f"# {repo_id.split('/')[-1]}\n\n"
        f"A Semantify slider set: {len(sliders)} "
        f"sliders that shape `{model_id}`. {clip}\n\n"
        "## Use\n\n"
        "```bash\n"
        f"semantify app --sliders hf://{repo_id}\n"
        f"semantify shape hf://{repo_id} --set {sliders[0].name}={sliders[0].default:.4g} "
        "--out shape.glb\n"
        "```\n\n"
        "## Sliders\n\n"
        "| slider | low | high | default | unit |\n|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "## Licence\n\n"
        f"{licence_statement}\n"
    )
