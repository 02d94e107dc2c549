"""What each event does. Handlers read the session and return ``{component: value}`` updates.

User errors (``SemantifyError``) never escape: they become a notice in the info box (and a
toast), escaped and without server paths, and the session is left as it was. Anything else is
logged on the server and shown as one generic line.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import secrets
import time

import gradio as gr

from semantify import limits
from semantify.app import animation, exports, frames, scratch, view
from semantify.app.catalog import Catalog
from semantify.app.config import AppConfig
from semantify.app.layout import Ui
from semantify.app.runtime import Runtime, is_resolved, runtime
from semantify.app.session import PhotoRef, Session
from semantify.app.text import for_visitors, notices, shown
from semantify.app.viewport import FrameService
from semantify.errors import SemantifyError

log = logging.getLogger("semantify.app")
NO_WORDS = ("This slider set has no word sliders (it is measurements only), so photos and text "
            "cannot drive it. Pick a set with words, or build one in the *Build sliders* tab.")
PUBLIC_JOB_WINDOW = 3600.0  # seconds over which PUBLIC_JOBS_PER_HOUR counts
PREPARING = "Preparing the model (the first start only takes about a minute)"


def reports_errors(method):
    """Turn an error raised by ``method`` into a notice; nothing else changes."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except SemantifyError as error:
            message = for_visitors(str(error))
            if message != str(error):
                log.warning("semantify app: %s", error)
        except Exception:  # noqa: BLE001 - a visitor must never see a traceback
            log.exception("semantify app: %s failed", method.__name__)
            message = "something went wrong on the server; try again, or reload the page."
        gr.Warning(shown(message))
        return {self.ui.info: notices([message])}
    return wrapper


def released(method):
    """Give the session's place back when a view event (admitted by ``admit``) finishes."""
    @functools.wraps(method)
    def wrapper(self, *args):
        session = next((a for a in args if isinstance(a, Session)), None)
        try:
            return method(self, *args)
        finally:
            if session is not None:
                session.throttle.release()
    return wrapper


class Handlers:
    """The event handlers of the app; one instance serves every session."""

    def __init__(self, ui: Ui, catalog: Catalog, config: AppConfig, frames: FrameService,
                 first_builds=None):
        self.ui, self.catalog, self.config, self.frames = ui, catalog, config, frames
        self.first_builds = first_builds  # semantify.app.first_build.FirstBuilds, or None

    # -- output groups --------------------------------------------------------------------

    def runtime_of(self, session: Session) -> Runtime:
        return runtime(self.catalog.get(session.entry))

    def shown(self, session: Session, rt: Runtime, lines=()) -> dict:
        """Updates after the shape or the view changed: state, render, numbers, notices."""
        ui = self.ui
        frame = view.frame(session, rt, self.frames)  # may give the session a new view
        return {ui.state: session, ui.viewer: frame,
                ui.measures: rt.table(session.vertices, session.values),
                ui.record: view.record(session, rt),
                ui.info: notices(lines), ui.heat_key: view.colour_key(session)}

    def drawn(self, session: Session, rt: Runtime) -> dict:
        """Updates after only the look changed (pose, skin, heatmap): state, render, key."""
        ui = self.ui
        frame = view.frame(session, rt, self.frames)
        return {ui.state: session, ui.viewer: frame, ui.heat_key: view.colour_key(session),
                ui.record: view.record(session, rt)}

    def slider_values(self, session: Session, rt: Runtime) -> dict:
        """Updates moving the page's sliders to the session's values."""
        return {self.ui.sliders[slot]: session.values[index]
                for index, slot in rt.panel.slots.items()}

    def layout(self, session: Session, rt: Runtime) -> dict:
        """Updates laying the page out for the session's entry."""
        ui, slider_set = self.ui, rt.slider_set
        updates = {slider: gr.Slider(visible=False) for slider in ui.sliders}
        for index, slot in rt.panel.slots.items():
            s = slider_set.sliders[index]
            updates[ui.sliders[slot]] = gr.Slider(
                minimum=s.low, maximum=s.high, value=session.values[index], step=s.step,
                label=s.label, visible=True)
        n_extra = len(rt.panel.slots) - rt.panel.n_main
        updates[ui.extras] = gr.Accordion(label=f"More sliders ({n_extra})",
                                          visible=n_extra > 0, open=False)
        updates[ui.ramp_slider] = gr.Dropdown(
            choices=[(s.label, i) for i, s in enumerate(slider_set.sliders)], value=0)
        words = bool(slider_set.word_names)
        for note in (ui.photo_note, ui.words_note):
            updates[note] = "" if words else NO_WORDS
        for button in (ui.fit_crop, ui.prompt_go, ui.add_words, ui.uploads):
            updates[button] = gr.update(interactive=words)
        from semantify.poses import usable_poses

        updates[ui.pose] = gr.Dropdown(choices=[(p.label, p.name) for p in usable_poses(
            slider_set.model)], value=session.pose)
        return {**updates, **self.offer(session, rt.entry.model_ref.id)}

    # -- the first build ------------------------------------------------------------------

    def offer(self, session: Session, model_id: str) -> dict:
        """The first-build row for ``model_id``: shown while the model has no word set, while
        its first build is under way, and, on a page that saw it under way, with its outcome
        (until the new set is picked)."""
        ui, builds = self.ui, self.first_builds
        hidden = {ui.offer_row: gr.Row(visible=False)}
        if builds is None or builds.settings(model_id) is None:
            return hidden
        from semantify.app.first_build import status_text

        state = builds.state(model_id)
        busy = state is not None and state.state in ("queued", "running")
        finished = state is not None and state.state == "finished"
        on_words = bool(session.entry) and bool(self.catalog.get(session.entry).words)
        if builds.has_word_set(model_id, session.token) and (state is None or finished) and (
                on_words or session.build_watched != model_id):
            return hidden
        name = shown(builds.settings(model_id).recipe.title.split(":")[0])
        return {ui.offer_row: gr.Row(visible=True),
                ui.offer_note: f"**{name} now has word sliders.**" if finished else
                f"**{name} has no word sliders yet.** Sliders named by words, photo fitting "
                "and text need a word set.",
                ui.offer: gr.Button(value=builds.offer(model_id),
                                    interactive=not busy and not finished),
                ui.offer_status: status_text(state)}

    def watch(self, session: Session, model_id: str) -> Session:
        """``session``, noting that its page saw ``model_id``'s first build under way."""
        state = self.first_builds.state(model_id)
        if state is None or state.state not in ("queued", "running") or \
                session.build_watched == model_id:
            return session
        return dataclasses.replace(session, build_watched=model_id)

    @reports_errors
    def first_build(self, session: Session) -> dict:
        """Queue the first build of the model on show (shared: once per server)."""
        model_id = self.catalog.get(session.entry).model_ref.id
        self.first_builds.submit(model_id)
        session = self.watch(session, model_id)
        return {self.ui.state: session, **self.offer(session, model_id)}

    def poll(self, session: Session) -> dict:
        """Every few seconds: the build's state beside the button, and the picker when a
        first build has finished on this server (on every open page, without a reload)."""
        if self.first_builds is None or not session.entry:
            return {self.ui.state: session}
        try:
            model_id = self.catalog.get(session.entry).model_ref.id
            session = self.watch(session, model_id)
            updates = {self.ui.state: session, **self.offer(session, model_id)}
        except SemantifyError:
            return {self.ui.state: session}
        if session.custom_build:
            from semantify.app.first_build import status_text

            updates[self.ui.build_log] = status_text(
                self.first_builds.queue.state(session.custom_build))
        version = self.first_builds.version
        if version != session.builds_seen:
            session = dataclasses.replace(session, builds_seen=version)
            updates.update({self.ui.state: session, self.ui.picker: self.picker(session)})
        return updates

    def opened(self, session: Session, rt: Runtime, lines=()) -> dict:
        lines = list(lines)
        if rt.panel.hidden:
            lines.append(f"{rt.panel.hidden} more sliders keep their values (the page shows "
                         f"{len(rt.panel.slots)} at most).")
        clip = rt.slider_set.clip
        if clip is not None and not clip.is_semantic:
            lines.append("this slider set uses random CLIP weights: not semantic, for testing "
                         "only.")
        return {**self.shown(session, rt, lines), **self.layout(session, rt)}

    def picker(self, session: Session) -> gr.Dropdown:
        return gr.Dropdown(choices=self.catalog.choices(session.token, session.everyone),
                           value=session.entry)

    def jump(self, session: Session, rt: Runtime, values, lines=()) -> dict:
        """Sliders jump to ``values`` (photo, text, reset, random, params)."""
        session, shape = view.with_values(session, rt, values)
        return {**self.shown(session, rt, [*lines, *shape.notes]),
                **self.slider_values(session, rt)}

    # -- page and picker ------------------------------------------------------------------

    @reports_errors
    def start(self, session: Session, progress=gr.Progress()) -> dict:
        """Page load: a new session token; open the first entry (slider sets first)."""
        view_id = self.frames.open()  # told to the page by ``announce``, right after
        session = dataclasses.replace(session, token=scratch.new_token(), view=view_id,
                                      announced=view_id)
        first = self.catalog.first(session.token)
        if first is None:
            return {self.ui.state: session, self.ui.info: "no model is available here."}
        if not is_resolved(first):
            progress(0.1, desc=PREPARING)
        rt = runtime(first)
        session = view.opened(session, rt)
        return {**self.opened(session, rt, self.catalog.notices), self.ui.picker:
                self.picker(session)}

    @reports_errors
    def open(self, session: Session, entry_id) -> dict:
        if not entry_id:
            return {self.ui.state: session}
        rt = runtime(self.catalog.get(entry_id))
        return self.opened(view.opened(session, rt), rt)

    @reports_errors
    def load_hub(self, session: Session, name) -> dict:
        """Fetch ``hf://OWNER/NAME[@REV]`` through the Hub cache (JSON and weights only, size
        capped), list it for this session and open it."""
        from semantify.hub import HubRef

        ref = str(HubRef.parse(str(name or "").strip()))
        entry = self.catalog.add(ref, owner=session.token)
        rt = runtime(entry)
        session = view.opened(session, rt)
        return {**self.opened(session, rt, [f"loaded {ref} from the Hub."]),
                self.ui.picker: self.picker(session)}

    @reports_errors
    def set_everyone(self, session: Session, everyone: bool) -> dict:
        session = dataclasses.replace(session, everyone=bool(everyone))
        return {self.ui.state: session, self.ui.picker: self.picker(session)}

    # -- the hot path: sliders and the camera ---------------------------------------------

    def admit(self, session: Session, *values) -> list[dict]:
        """Validator of view events, run before they are queued: a session over its limits
        has the event refused at once (it never takes a place in the queue)."""
        ok = isinstance(session, Session) and session.throttle.admit()
        message = "" if ok else "too many view events; wait a moment."
        return [gr.validate(ok, message) for _ in (session, *values)]

    @released
    @reports_errors
    def move(self, slot: int, session: Session, value) -> dict:
        """One slider moved (the API's ``/move``; pages move sliders through the viewer and
        ``settle``): re-render. A value outside the range is clamped once; the record says
        which value the render used."""
        rt = self.runtime_of(session)
        index = rt.panel.index_of(slot)
        if index is None or value is None:
            return {self.ui.state: session}
        values = list(session.values)
        values[index] = float(value)
        session, _ = view.with_values(session, rt, values)
        return self.shown(session, rt)

    def move_api(self, session: Session, slot, value) -> dict:
        """API twin of a slider move: ``slot`` indexes the page's slider pool."""
        try:
            slot = int(slot)
        except (TypeError, ValueError):
            slot = -1
        return self.move(slot, session, value)

    @released
    @reports_errors
    def settle(self, session: Session, event: gr.EventData) -> dict:
        """The page's sliders came to rest after a drag or keys (the viewer drew the frames
        itself): the session, numbers and record follow, without a frame."""
        from semantify.app.viewport.service import slider_pairs

        by_slot = slider_pairs((getattr(event, "_data", None) or {}).get("values"))
        if by_slot is None:
            raise SemantifyError("the slider values sent are not valid; move a slider again.")
        rt = self.runtime_of(session)
        session, shape = view.with_values(session, rt, rt.panel.placed(session.values, by_slot))
        self.frames.follow(session.view, view.follow(session, rt))
        return {self.ui.state: session,
                self.ui.measures: rt.table(session.vertices, session.values),
                self.ui.record: view.record(session, rt), self.ui.info: notices(shape.notes),
                self.ui.heat_key: view.colour_key(session),
                **self.slider_values(session, rt)}

    @reports_errors
    def set_look(self, session: Session, pose, appearance, enabled: bool) -> dict:
        """The pose, skin or clay, or the heatmap changed: redraw (measurements stay: they
        are always of the rest pose)."""
        from semantify.appearance import check_appearance
        from semantify.poses import usable_poses

        rt = self.runtime_of(session)
        poses = [p.name for p in usable_poses(rt.slider_set.model)]
        pose = pose or "rest"
        if pose not in poses:  # a listed name only: never a pose file a visitor names
            raise SemantifyError(f"unknown pose; pick one of {', '.join(poses)}.")
        session = dataclasses.replace(session, pose=pose, heatmap=bool(enabled),
                                      appearance=check_appearance(appearance or "skin"))
        return self.drawn(session, rt)

    @reports_errors
    def set_heatmap(self, session: Session, enabled: bool) -> dict:
        """API twin of the heatmap checkbox."""
        session = dataclasses.replace(session, heatmap=bool(enabled))
        return self.drawn(session, self.runtime_of(session))

    def announce(self, session: Session) -> dict:
        """Tell the page its view id (after ``start``, whose outputs stay plain for API
        clients)."""
        return {self.ui.viewer: gr.HTML(view=session.view)}

    @reports_errors
    def reopen_view(self, session: Session) -> dict:
        """The page's view was forgotten (the server keeps the most recent ones): a new one."""
        session = dataclasses.replace(session, view=self.frames.open())
        return self.drawn(session, self.runtime_of(session))

    @reports_errors
    def turntable(self, session: Session) -> dict:
        """A 360-degree MP4 of the shape on show, in its pose and look."""
        from semantify.turntable import write_turntable

        rt = self.runtime_of(session)
        path = write_turntable(scratch.session_folder(session.token) / "turntable.mp4",
                               rt.slider_set.model, session.coefficients, session.pose,
                               session.appearance, size=384, frames=72, fps=24)
        return {self.ui.turntable_file: gr.File(value=str(path), visible=True),
                self.ui.info: notices([f"wrote {path.name}."])}

    def show_record(self, enabled: bool) -> dict:
        return {self.ui.record: gr.JSON(visible=bool(enabled))}

    @reports_errors
    def reset(self, session: Session) -> dict:
        rt = self.runtime_of(session)
        return self.jump(session, rt, rt.slider_set.defaults)

    @reports_errors
    def randomise(self, session: Session) -> dict:
        """A shape from the model's sampling prior, shown as this set's slider values."""
        rt = self.runtime_of(session)
        shape = rt.slider_set.random(secrets.randbelow(2**31))
        return self.jump(session, rt, shape.values, shape.notes)

    @reports_errors
    def ramp(self, session: Session, index) -> dict:
        rt = self.runtime_of(session)
        if not isinstance(index, int) or not 0 <= index < len(rt.slider_set.sliders):
            raise SemantifyError("pick the slider to animate first.")
        path = animation.ramp_gif(session, rt, index, self.frames.camera(session.view))
        return {self.ui.ramp_view: gr.Image(value=str(path), visible=True)}

    # -- photos ---------------------------------------------------------------------------

    @reports_errors
    def upload_photos(self, session: Session, paths) -> dict:
        """Check the uploaded photos; they replace earlier ones. Show them and fit to them."""
        from semantify.photos import read_photo

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
        rt = self.runtime_of(session)
        shape = rt.slider_set.fit_photos(photos, start=dict(zip(rt.slider_set.names,
                                                                session.values)))
        return {**cleared, **self.jump(session, rt, shape.values, [
            *lines, *shape.notes, "drag on the photo to crop it, then press Fit."])}

    @reports_errors
    def select_crop(self, session: Session, event: gr.EventData) -> dict:
        """The crop box drawn on the first photo, as fractions of it (None: no crop)."""
        box = (getattr(event, "_data", None) or {}).get("box")
        if box is not None:
            if not (isinstance(box, list) and len(box) == 4 and all(
                    isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in box)):
                raise SemantifyError("the crop box is not valid; drag a box on the photo.")
            box = tuple(float(v) for v in box)
        return {self.ui.state: dataclasses.replace(session, crop=box)}

    @reports_errors
    def fit_crop(self, session: Session) -> dict:
        """Fit to the cropped first photo plus the other uploaded photos."""
        from semantify.clip.images import prepare_photo
        from semantify.photos import Box, read_photo

        if not session.photos:
            raise SemantifyError("no photo to crop; upload a photo first.")
        if session.crop is None:
            raise SemantifyError("drag a box on the photo to crop it, then press Fit.")
        first = session.photos[0]
        width, height = first.size
        fx, fy, fw, fh = session.crop
        box = Box(round(fx * width), round(fy * height), max(1, round(fw * width)),
                  max(1, round(fh * height)))
        photos = [read_photo(ref.path, ref.name) for ref in session.photos]
        rt = self.runtime_of(session)
        shape = rt.slider_set.fit_photos(photos, [box], start=dict(zip(rt.slider_set.names,
                                                                       session.values)))
        seen = prepare_photo(photos[0].cropped(box), 224)
        return {**self.jump(session, rt, shape.values, shape.notes), self.ui.clip_view: seen}

    # -- words and text -------------------------------------------------------------------

    @reports_errors
    def prompt(self, session: Session, text: str, method: str) -> dict:
        """Sliders jump to the shape a free-text prompt describes."""
        rt = self.runtime_of(session)
        shape = rt.slider_set.from_text(text, method, start=dict(zip(rt.slider_set.names,
                                                                     session.values)))
        return self.jump(session, rt, shape.values, shape.notes)

    def _job_allowed(self, session: Session) -> Session:
        """On a public server, each session may start PUBLIC_JOBS_PER_HOUR training jobs."""
        if not self.config.public:
            return session
        now = time.time()
        recent = tuple(t for t in session.jobs if now - t < PUBLIC_JOB_WINDOW)
        if len(recent) >= limits.PUBLIC_JOBS_PER_HOUR:
            raise SemantifyError(f"this public server trains at most "
                                 f"{limits.PUBLIC_JOBS_PER_HOUR} new slider sets per visitor an "
                                 "hour; try again later, or run Semantify on your own machine.")
        return dataclasses.replace(session, jobs=recent + (now,))

    def _saved(self, folder, session: Session) -> str:
        """Where a new set went: its name on a public server, its folder otherwise."""
        return folder.name if self.config.public else str(folder)

    @reports_errors
    def add_words(self, session: Session, text: str, progress=gr.Progress()) -> dict:
        """Train the set's sliders plus new words and open the new set."""
        from lightning_modules.words import add_words
        from semantify.paths import built_sets_dir

        rt = self.runtime_of(session)
        session = self._job_allowed(session)
        base = rt.entry.folder.name if rt.entry.folder else rt.slider_set.name
        out = built_sets_dir() / f"{base}+words-{time.strftime('%Y%m%d-%H%M%S')}"
        new, lines = add_words(rt.slider_set, text, out,
                               lambda fraction, desc: progress(fraction, desc=desc))
        entry = self.catalog.add(out, owner=session.token)
        rt = runtime(entry)
        session = view.opened(session, rt)
        lines = [*lines, f"new sliders saved as {self._saved(out, session)}."]
        return {**self.opened(session, rt, lines), self.ui.picker: self.picker(session)}

    # -- build ----------------------------------------------------------------------------

    @reports_errors
    def build(self, session: Session, model_id, clip_choice, checkpoint, samples,
              quick) -> dict:
        """Queue a build of ``model_id``'s recipe with the tab's options; its state shows in
        the tab, and the set joins this session's list when done."""
        from semantify.app.first_build import status_text
        from semantify.app.layout import CLIP_CHOICES

        if self.first_builds is None:
            raise SemantifyError("this server does not build slider sets.")
        if not isinstance(model_id, str) or f"raw-{model_id}" not in {
                e.id for e in self.catalog.entries()}:
            raise SemantifyError("pick a model from the list.")
        choice = CLIP_CHOICES.index(clip_choice) if clip_choice in CLIP_CHOICES else 0
        try:
            samples = None if samples in (None, "") else int(samples)
        except (TypeError, ValueError):
            raise SemantifyError("samples must be a whole number, or empty.") from None
        session = self._job_allowed(session)
        settings = self.first_builds.custom(
            model_id, ("tiny-random" if choice == 2 else None),
            str(checkpoint or "") if choice == 1 else None, samples, bool(quick))
        state = self.first_builds.submit_custom(settings, session.token)
        session = dataclasses.replace(session, custom_build=str(settings.default_out()))
        return {self.ui.state: session, self.ui.build_log: status_text(state),
                self.ui.info: notices([f"queued: {settings.title}."])}

    # -- export and params ----------------------------------------------------------------

    @reports_errors
    def export(self, session: Session, posed: bool = False) -> dict:
        rt = self.runtime_of(session)
        shape = view.shown_vertices(session, rt) if posed else session.vertices
        paths = exports.export_files(session, rt, view.record(session, rt), shape)
        glb = next(str(p) for p in paths if p.suffix == ".glb")
        return {self.ui.files: [str(p) for p in paths], self.ui.preview: glb,
                self.ui.info: notices([f"exported {', '.join(p.name for p in paths)}."])}

    @reports_errors
    def load_params(self, session: Session, path) -> dict:
        """Open the set the params name (when listed here) at their values."""
        from semantify.params import Params

        if not path:
            return {self.ui.state: session}
        params = Params.read(path, name="the params file",
                             fix="load a params.json exported by Semantify")
        entry = self.catalog.get(session.entry)
        if params.slider_set is None:
            entry = self.catalog.get(f"raw-{params.model.id}") if f"raw-{params.model.id}" in {
                e.id for e in self.catalog.entries()} else None
        elif entry.is_raw or entry.name != params.slider_set:
            entry = self.catalog.find_set(params.slider_set, params.model.id, session.token)
        if entry is None:
            raise SemantifyError("the params are for a model or slider set this server does "
                                 "not offer; open the set they were made with, then load them.")
        rt = runtime(entry)
        shape = rt.slider_set.shape_from_params(params, "the params file")
        if entry.id != session.entry:
            session = view.opened(session, rt, shape.values)
            return {**self.opened(session, rt, ["params loaded."]),
                    self.ui.picker: self.picker(session)}
        return self.jump(session, rt, shape.values, ["params loaded."])


def _preview(image, side: int = 512):
    """(H, W, 3) uint8 of ``image`` at most ``side`` pixels on its longest side."""
    import numpy as np

    small = image.copy()
    small.thumbnail((side, side))
    return np.asarray(small.convert("RGB"))
