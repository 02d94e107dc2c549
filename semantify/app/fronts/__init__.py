"""The app's fronts: one per part of the page (a tab or a column), each a small class whose
methods are that part's events, over the visitor's frozen :class:`~semantify.app.session.Session`.
They parse what the page sends and call the core; :mod:`semantify.app.events` wires them.

``entries`` (page load, picker, Hub sets), ``shape`` (sliders), ``look`` (pose, skin, heatmap,
the view, turntable, animation), ``photos``, ``words`` (text and new words), ``builds`` (the
first build, the Build tab, the poll), ``files`` (exports, params); ``base`` holds what they
share (:class:`~semantify.app.fronts.base.Page`: the updates every part sends).
"""

from __future__ import annotations

import dataclasses

from semantify.app.admission import JobLimit
from semantify.app.fronts.base import Gates, Page
from semantify.app.fronts.builds import BuildFront, FirstBuildRow
from semantify.app.fronts.entries import EntryFront
from semantify.app.fronts.files import FileFront
from semantify.app.fronts.look import LookFront
from semantify.app.fronts.photos import PhotoFront
from semantify.app.fronts.shape import ShapeFront
from semantify.app.fronts.words import WordsFront


@dataclasses.dataclass(frozen=True)
class Fronts:
    """Every front of one app, and the gates that admit their events."""

    gates: Gates
    entries: EntryFront
    shape: ShapeFront
    look: LookFront
    photos: PhotoFront
    words: WordsFront
    builds: BuildFront
    files: FileFront


def make_fronts(ui, catalog, config, frames, first_builds=None) -> Fronts:
    """The fronts of the page ``ui`` over ``catalog``, served as ``config`` says, drawing in
    ``frames``; ``first_builds``: :class:`semantify.app.first_build.FirstBuilds` (None: this
    server does not build)."""
    row = FirstBuildRow(ui, catalog, config, first_builds)
    page = Page(ui, catalog, config, frames, row)
    jobs = JobLimit(config.public)  # new words and builds count together
    return Fronts(Gates(), EntryFront(page), ShapeFront(page), LookFront(page),
                  PhotoFront(page), WordsFront(page, jobs), BuildFront(page, row, jobs),
                  FileFront(page))


__all__ = ["Fronts", "make_fronts"]
