"""The photo tab: uploads fitted at once, a crop box drawn on the first photo, and a fit to
the crop."""

from __future__ import annotations

import dataclasses

import gradio as gr

from semantify import limits
from semantify.app import frames
from semantify.app.admission import HEAVY
from semantify.app.fronts.base import Front, in_turn, released, reports_errors
from semantify.app.session import PhotoRef, Session
from semantify.app.text import notices
from semantify.errors import SemantifyError


class PhotoFront(Front):
    """Shape from photos."""

    @released(HEAVY)
    @reports_errors
    def upload_photos(self, session: Session, paths) -> dict:
        """Check the uploaded photos; they replace earlier ones. Show them and fit to them."""
        from semantify.pictures.photos import read_photo

        ui = self.ui
        paths = [p for p in (paths if isinstance(paths, list) else [paths]) if p]
        lines, photos, refs = [], [], []
        if len(paths) > limits.MAX_PHOTOS:
            lines.append(f"only the first {limits.MAX_PHOTOS} of {len(paths)} photos are used.")
        for path in paths[: limits.MAX_PHOTOS]:
            try:
                photo = read_photo(path)  # Gradio keeps the upload's own file name
            except SemantifyError as error:
                lines.append(str(error))
                continue
            photos.append(photo)
            refs.append(PhotoRef(str(path), photo.name, photo.size))
            lines += photo.notes
        session = dataclasses.replace(session, photos=tuple(refs), crop=None)
        cleared = {ui.uploads: None, ui.state: session,
                   ui.gallery: [photo.image for photo in photos],
                   ui.crop: frames.jpeg_data_url(_preview(photos[0].image)) if photos else "",
                   ui.clip_view: None}
        if not photos:
            return {**cleared, ui.info: notices(lines or ["no photo uploaded."])}
        rt = self.page.runtime_of(session)
        shape = rt.slider_set.fit_photos(photos, start=dict(zip(rt.slider_set.names,
                                                                session.values)))
        return {**cleared, **self.page.jump(session, rt, shape.values, [
            *lines, *shape.notes, "drag on the photo to crop it, then press Fit."])}

    @in_turn
    @reports_errors
    def select_crop(self, session: Session, event: gr.EventData) -> dict:
        """The crop box drawn on the first photo, as fractions of it (None: no crop)."""
        from semantify.pictures.photos import Box

        box = (getattr(event, "_data", None) or {}).get("box")
        crop = None if box is None else Box.fractions(box)
        return {self.ui.state: dataclasses.replace(session, crop=crop)}

    @released(HEAVY)
    @reports_errors
    def fit_crop(self, session: Session) -> dict:
        """Fit to the cropped first photo plus the other uploaded photos."""
        from semantify.clip.images import prepare_photo
        from semantify.pictures.photos import Box, read_photo

        if not session.photos:
            raise SemantifyError("no photo to crop; upload a photo first.")
        if session.crop is None:
            raise SemantifyError("drag a box on the photo to crop it, then press Fit.")
        box = Box.from_fractions(session.crop, session.photos[0].size)
        photos = [read_photo(ref.path, ref.name) for ref in session.photos]
        rt = self.page.runtime_of(session)
        shape = rt.slider_set.fit_photos(photos, [box], start=dict(zip(rt.slider_set.names,
                                                                       session.values)))
        seen = prepare_photo(photos[0].cropped(box), 224)
        return {**self.page.jump(session, rt, shape.values, shape.notes),
                self.ui.clip_view: seen}


def _preview(image, side: int = 512):
    """(H, W, 3) uint8 of ``image`` at most ``side`` pixels on its longest side."""
    import numpy as np

    small = image.copy()
    small.thumbnail((side, side))
    return np.asarray(small.convert("RGB"))
