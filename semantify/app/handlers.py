"""What each event does. Handlers read the session and return ``{component: value}`` updates.

User errors (``SemantifyError``) never escape: they become a notice in the info box (and a
toast), and the session is left as it was.
"""

from __future__ import annotations

import dataclasses
import functools

import gradio as gr
import numpy as np

from semantify.app import (animation, build, catalog, exports, frames, photos, uploads, view,
                           words)
from semantify.app.controls import EXTRA_SLOTS, MAIN_SLOTS
from semantify.app.layout import CLIP_CHOICES, Ui
from semantify.app.session import Session
from semantify.errors import SemantifyError


def notice_text(notices) -> str:
    return "\n".join(f"- {line}" for line in notices)


def reports_errors(method):
    """Turn a SemantifyError raised by ``method`` into a notice; nothing else changes."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SemantifyError as error:
            gr.Warning(str(error))
            return {self.ui.info: notice_text([str(error)])}
    return wrapper


class Handlers:
    """The event handlers of one page; ``slider_dirs`` are extra slider set folders."""

    def __init__(self, ui: Ui, slider_dirs=()):
        self.ui = ui
        self.slider_dirs = tuple(slider_dirs)

    # -- output groups --------------------------------------------------------------------

    def frame(self, session: Session) -> str:
        """The session's render as a JPEG data URL (sent inline with the event's response)."""
        return frames.jpeg_data_url(view.render(session))

    def shown(self, session: Session, notices=()) -> dict:
        """Updates after the shape or the view changed: state, render, measurements, record."""
        ui = self.ui
        return {ui.state: session, ui.image: self.frame(session),
                ui.measures: view.measurements(session),
                ui.record: view.coefficient_record(session),
                ui.info: notice_text(notices)}

    def slider_values(self, session: Session) -> dict:
        """Updates moving the sliders of the current panel to the session's values."""
        slots = view.panel(session.key).slots
        return {self.ui.sliders[slot]: value for slot, value in zip(slots, session.values)}

    def slider_layout(self, session: Session) -> dict:
        """Updates laying the pool out for the session's panel (labels, ranges, visibility)."""
        panel = view.panel(session.key)
        updates = {slider: gr.Slider(visible=False) for slider in self.ui.sliders}
        for slot, control, value in zip(panel.slots, panel.controls, session.values):
            updates[self.ui.sliders[slot]] = gr.Slider(
                minimum=control.low, maximum=control.high, value=value, step=control.step,
                label=control.label, visible=True)
        n_extra = len(panel.controls) - panel.n_main
        label = f"More coefficients ({n_extra})"
        updates[self.ui.extras] = gr.Accordion(label=label, visible=n_extra > 0, open=False)
        names = [c.name for c in panel.controls]
        updates[self.ui.ramp_slider] = gr.Dropdown(choices=names,
                                                   value=names[0] if names else None)
        return updates

    def opened(self, session: Session, notices=()) -> dict:
        panel = view.panel(session.key)
        notices = list(notices)
        if panel.hidden:
            notices.append(f"{panel.hidden} more coefficients stay at their defaults (the "
                           f"page shows {MAIN_SLOTS + EXTRA_SLOTS} sliders at most).")
        if panel.entry.sliders and "NOT SEMANTIC" in self._set_kind(panel):
            notices.append("this slider set uses random CLIP weights: not semantic, for "
                           "testing only.")
        return {**self.shown(session, notices), **self.slider_layout(session)}

    @staticmethod
    def _set_kind(panel) -> str:
        from semantify.app import resources
        from semantify.clip import ClipSpec

        clip = resources.slider_set(panel.entry.sliders).clip
        return "" if clip is None else ClipSpec.from_dict(clip).label

    def picker_update(self, key: str) -> gr.Dropdown:
        rows, _ = catalog.entries(self.slider_dirs)
        return gr.Dropdown(choices=[(row.label, row.key) for row in rows], value=key)

    # -- events ---------------------------------------------------------------------------

    @reports_errors
    def start(self, session: Session) -> dict:
        """Page load: open the first entry (slider sets first), list every entry."""
        rows, notices = catalog.entries(self.slider_dirs)
        if not rows:
            return {self.ui.info: "no model is available; see `semantify models`."}
        key = session.key or rows[0].key
        opened = self.opened(view.open_entry(key), notices)
        return {**opened, self.ui.picker: gr.Dropdown(
            choices=[(row.label, row.key) for row in rows], value=key)}

    @reports_errors
    def open(self, session: Session, key: str) -> dict:
        if not key:
            return {self.ui.state: session}
        return self.opened(dataclasses.replace(view.open_entry(key), heatmap=session.heatmap,
                                               azimuth=session.azimuth,
                                               elevation=session.elevation, zoom=session.zoom))

    @reports_errors
    def move(self, slot: int, session: Session, value: float) -> dict:
        """One slider moved: re-render (the hot path: keep it lean)."""
        panel = view.panel(session.key)
        if slot not in panel.slots or value is None:
            return {self.ui.state: session}
        values = list(session.values)
        values[panel.slots.index(slot)] = float(value)
        return self.shown(view.with_values(session, values))

    def move_api(self, session: Session, slot, value) -> dict:
        """API twin of a slider move: ``slot`` index into the page's slider pool."""
        return self.move(int(slot or 0), session, value)

    @reports_errors
    def orbit(self, session: Session, azimuth, elevation, zoom) -> dict:
        session = dataclasses.replace(session, azimuth=float(azimuth),
                                      elevation=float(elevation), zoom=float(zoom))
        return {self.ui.state: session, self.ui.image: self.frame(session)}

    @reports_errors
    def reset_view(self, session: Session) -> dict:
        fresh = Session()
        session = dataclasses.replace(session, azimuth=fresh.azimuth,
                                      elevation=fresh.elevation, zoom=fresh.zoom)
        return {self.ui.state: session, self.ui.image: self.frame(session),
                self.ui.azimuth: fresh.azimuth, self.ui.elevation: fresh.elevation,
                self.ui.zoom: fresh.zoom}

    @reports_errors
    def set_heatmap(self, session: Session, enabled: bool) -> dict:
        session = dataclasses.replace(session, heatmap=bool(enabled))
        return {self.ui.state: session, self.ui.image: self.frame(session)}

    def set_show_coefficients(self, enabled: bool) -> dict:
        return {self.ui.record: gr.JSON(visible=bool(enabled))}

    @reports_errors
    def jump(self, session: Session, values, notices=()) -> dict:
        """Sliders jump to ``values`` (photo, text, reset, random, params)."""
        session = view.with_values(session, values)
        return {**self.shown(session, notices), **self.slider_values(session)}

    def reset(self, session: Session) -> dict:
        return self.jump(session, view.panel(session.key).defaults)

    def randomise(self, session: Session) -> dict:
        rng = np.random.default_rng()
        controls = view.panel(session.key).controls
        return self.jump(session, [rng.uniform(c.low, c.high) for c in controls])

    @reports_errors
    def ramp(self, session: Session, name: str) -> dict:
        names = [c.name for c in view.panel(session.key).controls]
        if name not in names:
            raise SemantifyError("pick the slider to animate first.")
        path = animation.ramp_gif(session, names.index(name))
        return {self.ui.ramp_view: gr.Image(value=str(path), visible=True)}

    @reports_errors
    def upload_photos(self, session: Session, paths) -> dict:
        """Check the uploaded photos, show them, and fit the sliders to them."""
        images, notices = uploads.read_photos(paths if isinstance(paths, list) else [paths])
        if not images:
            if notices:
                gr.Warning(notices[0])
            return {self.ui.info: notice_text(notices or ["no photo uploaded."])}
        updates = {self.ui.gallery: images,
                   self.ui.editor: {"background": images[0], "layers": [],
                                    "composite": images[0]},
                   self.ui.photo_view: gr.Image(value=photos.letterboxed(images[0]),
                                                visible=True)}
        try:
            values = photos.fit_photos(session.key, images, session.values)
        except SemantifyError as error:
            return {**updates, self.ui.info: notice_text(notices + [str(error)])}
        return {**updates, **self.jump(session, values, notices + [
            f"fitted to {len(images)} photo(s); edit the sliders from here."])}

    @reports_errors
    def fit_crop(self, session: Session, edited, gallery) -> dict:
        """Fit to the cropped first photo plus the other uploaded photos."""
        crop = (edited or {}).get("composite")
        if crop is None:
            raise SemantifyError("no photo to crop; upload a photo first.")
        crop = crop.convert("RGB")
        others = [item[0] for item in (gallery or [])[1:]]
        from PIL import Image

        images = [crop] + [Image.open(path).convert("RGB") for path in others]
        values = photos.fit_photos(session.key, images, session.values)
        notice = f"fitted to the cropped photo and {len(others)} more."
        return {**self.jump(session, values, [notice]),
                self.ui.photo_view: gr.Image(value=photos.letterboxed(crop), visible=True)}

    @reports_errors
    def export(self, session: Session) -> dict:
        paths = exports.export_files(session)
        glb = next(str(p) for p in paths if p.suffix == ".glb")
        return {self.ui.files: [str(p) for p in paths], self.ui.preview: glb,
                self.ui.info: notice_text([f"exported {', '.join(p.name for p in paths)}."])}

    @reports_errors
    def load_params(self, session: Session, path) -> dict:
        if not path:
            return {self.ui.state: session}
        key, values, notices = exports.load_params(path)
        if key != session.key:
            session = dataclasses.replace(view.open_entry(key, values), heatmap=session.heatmap)
            return {**self.opened(session, notices + ["params loaded."]),
                    self.ui.picker: self.picker_update(key)}
        return self.jump(session, values, notices + ["params loaded."])

    def build(self, session: Session, model_id, clip_choice, checkpoint, samples,
              progress=gr.Progress()) -> dict:
        """Build a slider set for ``model_id`` with live progress, then open it."""
        kinds = dict(zip(CLIP_CHOICES, (build.METRIC, build.DEFAULT_CLIP, build.CHECKPOINT,
                                        build.TINY)))
        try:
            folder = build.build_sliders(model_id, kinds.get(clip_choice, build.METRIC),
                                         checkpoint, samples,
                                         lambda fraction, text: progress(fraction, desc=text))
        except SemantifyError as error:
            gr.Warning(str(error))
            hint = ""
            if "clip" in str(error).lower():
                hint = (" In this app: download the weights elsewhere, pick *CLIP from a local "
                        "checkpoint* and paste the file's path; *metric only* works offline.")
            return {self.ui.build_log: f"**Could not build sliders:** {error}{hint}"}
        key = f"{catalog.SETS}{folder}"
        opened = self.opened(dataclasses.replace(view.open_entry(key), heatmap=session.heatmap))
        return {**opened, self.ui.picker: self.picker_update(key),
                self.ui.build_log: f"Built and saved to `{folder}`."}

    @reports_errors
    def prompt(self, session: Session, text: str, method: str) -> dict:
        """Sliders jump to the shape a free-text prompt describes."""
        chosen = "mapper" if str(method).startswith("mapper") else "retrieval"
        values, notices = words.text_to_values(session.key, text, chosen, session.values)
        return self.jump(session, values, notices + [f"shape from text ({chosen})."])

    @reports_errors
    def add_words(self, session: Session, text: str, progress=gr.Progress()) -> dict:
        """Retrain the mapper with new descriptor words and open the new slider set."""
        folder, notices = words.add_words(session.key, text,
                                          lambda fraction, desc: progress(fraction, desc=desc))
        key = f"{catalog.SETS}{folder}"
        opened = self.opened(dataclasses.replace(view.open_entry(key), heatmap=session.heatmap),
                             notices + [f"new sliders saved to {folder}."])
        return {**opened, self.ui.picker: self.picker_update(key)}
