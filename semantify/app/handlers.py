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
import threading
import time

import gradio as gr

from semantify import limits
from semantify.app import animation, exports, frames, scratch, view
from semantify.app.admission import HEAVY, VIEW, Gate, Kind, address_of, validator
from semantify.app.catalog import Catalog
from semantify.app.config import AppConfig
from semantify.app.layout import Ui
from semantify.app.runtime import MAIN_SLOTS, Runtime, is_resolved, runtime
from semantify.app.session import PhotoRef, Session
from semantify.app.slider_labels import ALL_REGIONS
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


def released(kind: Kind):
    """Give the session's place of ``kind`` back when the event (admitted by ``Handlers.gate``)
    finishes."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args):
            session = next((a for a in args if isinstance(a, Session)), None)
            try:
                return method(self, *args)
            finally:
                if session is not None:
                    session.throttle.release(kind)
        return wrapper
    return decorate


class Handlers:
    """The event handlers of the app; one instance serves every session."""

    def __init__(self, ui: Ui, catalog: Catalog, config: AppConfig, frames: FrameService,
                 first_builds=None):
        self.ui, self.catalog, self.config, self.frames = ui, catalog, config, frames
        self.first_builds = first_builds  # semantify.app.first_build.FirstBuilds, or None
        self.gates = {kind.name: Gate(kind) for kind in (VIEW, HEAVY)}
        self._jobs: dict[str, list[float]] = {}  # address: when it started training jobs
        self._jobs_lock = threading.Lock()

    def gate(self, kind: Kind):
        """The validator of an event of ``kind`` (its inputs start with the session): a
        session, address or server over its places has the event refused before it is
        queued."""
        gate = self.gates[kind.name]

        def admit(session, request) -> bool:
            return isinstance(session, Session) and session.throttle.admit(
                gate, address_of(request))
        return validator(admit, kind.refused)

    # -- output groups --------------------------------------------------------------------

    def runtime_of(self, session: Session) -> Runtime:
        return runtime(self.catalog.get(session.entry))

    def shown(self, session: Session, rt: Runtime, lines=()) -> dict:
        """Updates after the shape or the view changed: state, render, numbers, notices."""
        ui = self.ui
        frame = view.frame(session, rt, self.frames)  # may give the session a new view
        return {ui.state: session, ui.viewer: frame,
                ui.measures: rt.table(session.vertices, session.values, session.set_names),
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
        shown = rt.rounded(session.values)  # to each slider's step, as the shape is made
        return {self.ui.sliders[slot]: shown[index] for index, slot in rt.panel.slots.items()}

    def layout(self, session: Session, rt: Runtime) -> dict:
        """Updates laying the page out for the session's entry."""
        ui, slider_set = self.ui, rt.slider_set
        updates = {slider: gr.Slider(visible=False) for slider in ui.sliders}
        labels, shown = rt.panel.labels, rt.rounded(session.values)  # to each slider's step
        for index, slot in rt.panel.slots.items():
            s = slider_set.sliders[index]
            updates[ui.sliders[slot]] = gr.Slider(
                minimum=s.low, maximum=s.high, value=shown[index], step=s.step,
                label=labels[index].text, info=rt.receipts.get(s.name, ""), visible=True)
        n_extra = len(rt.panel.slots) - rt.panel.n_main
        updates[ui.extras] = gr.Accordion(label=f"More sliders ({n_extra})",
                                          visible=n_extra > 0, open=False)
        regions = rt.panel.regions
        updates[ui.filters] = gr.Row(visible=len(regions) > 1)
        updates[ui.slider_group] = gr.Dropdown(choices=[ALL_REGIONS, *regions],
                                               value=ALL_REGIONS)
        updates[ui.slider_filter] = ""
        free = slider_set.body_model is not None
        updates[ui.free] = gr.Dropdown(
            choices=[(s.label, s.name) for s in slider_set.sliders] if free else [], value=None,
            visible=free)
        updates[ui.ramp_slider] = gr.Dropdown(
            choices=[(label.text, i) for i, label in enumerate(labels)], value=0)
        words = bool(slider_set.word_names)
        for note in (ui.photo_note, ui.words_note):
            updates[note] = "" if words else NO_WORDS
        for button in (ui.fit_crop, ui.prompt_go, ui.add_words, ui.uploads):
            updates[button] = gr.update(interactive=words)
        from semantify.poses import offered_poses

        updates[ui.pose] = gr.Dropdown(choices=[(p.label, p.name) for p in offered_poses(
            slider_set.model)], value=session.pose)
        return {**updates, **self.offer(session, rt.entry.model_ref.id)}

    @released(VIEW)
    @reports_errors
    def filter_sliders(self, session: Session, region, text) -> dict:
        """Show only the sliders of ``region`` whose label holds ``text``; the accordion of
        more sliders opens when some of them match."""
        rt = self.runtime_of(session)
        shown = rt.panel.shown(str(region or ""), str(text or "")[:60])
        updates = {self.ui.sliders[slot]: gr.Slider(visible=visible)
                   for slot, visible in shown.items()}
        filtering = region not in (None, "", ALL_REGIONS) or bool(str(text or "").strip())
        extra = [visible for slot, visible in shown.items() if slot >= MAIN_SLOTS]
        updates[self.ui.extras] = gr.Accordion(visible=any(extra) or not filtering and
                                               bool(extra), open=filtering and any(extra))
        return updates

    # -- the first build ------------------------------------------------------------------

    def offer(self, session: Session, model_id: str) -> dict:
        """The first-build row for ``model_id``: shown while the model has no word set, while
        its first build is under way, and, on a page that saw it under way, with its outcome
        (until the new set is picked). A failure is shown only to the pages that saw the build
        under way; a new visitor gets the plain offer, or nothing once a word set exists."""
        ui, builds = self.ui, self.first_builds
        hidden = {ui.offer_row: gr.Row(visible=False)}
        if builds is None or builds.settings(model_id) is None:
            return hidden
        from semantify.app.first_build import status_text

        state = builds.state(model_id)
        watched = session.build_watched == model_id
        if state is not None and state.state == "failed" and not watched:
            state = None  # another page's failure: this visitor may try afresh
        busy = state is not None and state.state in ("queued", "running")
        finished = state is not None and state.state == "finished"
        failed = state is not None and state.state == "failed"
        on_words = bool(session.entry) and bool(self.catalog.get(session.entry).words)
        listed = builds.has_word_set(model_id, session.token, not self.config.public)
        if listed and not busy and (on_words or not watched):
            return hidden
        name = shown(builds.settings(model_id).recipe.title.split(":")[0])
        note = (f"**{name} now has word sliders.**" if finished else
                f"**The build of {name}'s word sliders failed.**" if failed else
                f"**{name} has no word sliders yet.** Sliders named by words, photo fitting "
                "and text need a word set.")
        return {ui.offer_row: gr.Row(visible=True), ui.offer_note: note,
                ui.offer: gr.Button(value=builds.offer(model_id), interactive=state is None),
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
            session = self.custom_build_state(session, updates)
        version = self.first_builds.version
        if version != session.builds_seen:
            session = dataclasses.replace(session, builds_seen=version)
            updates.update({self.ui.state: session, self.ui.picker: self.picker(session)})
        return updates

    def custom_build_state(self, session: Session, updates: dict) -> Session:
        """Put the state of the session's *Build sliders* build in ``updates``; once it is over,
        say so in the info line too and stop following it (the session it returns)."""
        from semantify.app.first_build import CUSTOM_BUILD_REMEDY, status_text

        state = self.first_builds.queue.state(session.custom_build)
        updates[self.ui.build_log] = status_text(state, CUSTOM_BUILD_REMEDY)
        if state.state in ("finished", "failed"):
            session = dataclasses.replace(session, custom_build=None)
            updates[self.ui.state] = session
            updates[self.ui.info] = notices([
                f"{state.title} is ready: pick it in the list above." if state.state ==
                "finished" else f"the build of {state.title} failed (see the Build sliders "
                "tab)."])
        return session

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
        """The session's choices: on a private server every set built here (one person's
        machine), on a public one the visitor's own builds unless they ask for everyone's."""
        everyone = session.everyone or not self.config.public
        return gr.Dropdown(choices=self.catalog.choices(session.token, everyone),
                           value=session.entry)

    def jump(self, session: Session, rt: Runtime, values, lines=(), set_names=None) -> dict:
        """Sliders jump to ``values`` (photo, text, reset, random, params); ``set_names``: the
        sliders set (None: all)."""
        session, shape = view.with_values(session, rt, values, set_names=set_names)
        return {**self.shown(session, rt, [*lines, *shape.notes]),
                **self.slider_values(session, rt)}

    # -- page and picker ------------------------------------------------------------------

    @reports_errors
    def start(self, session: Session, request: gr.Request, progress=gr.Progress()) -> dict:
        """Page load: a new session token; open the first entry (slider sets first)."""
        token, address = scratch.new_token(), address_of(request)
        view_id = self.frames.open(token, address)  # told to the page by ``announce``
        session = dataclasses.replace(session, token=token, address=address, view=view_id,
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

    @released(VIEW)
    @reports_errors
    def open(self, session: Session, entry_id) -> dict:
        if not entry_id:
            return {self.ui.state: session}
        rt = runtime(self.catalog.get(entry_id))
        return self.opened(view.opened(session, rt), rt)

    @released(HEAVY)
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

    @released(VIEW)
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
        set_names = view.set_after(session, rt, values)
        if set_names is not None and rt.slider_set.names[index] not in set_names:
            set_names = (*set_names, rt.slider_set.names[index])  # moved to where it was
        session, shape = view.with_values(session, rt, values, set_names=set_names)
        return self.shown(session, rt, shape.notes)

    def move_api(self, session: Session, slot, value) -> dict:
        """API twin of a slider move: ``slot`` indexes the page's slider pool."""
        try:
            slot = int(slot)
        except (TypeError, ValueError):
            slot = -1
        return self.move(slot, session, value)

    @released(VIEW)
    @reports_errors
    def settle(self, session: Session, event: gr.EventData) -> dict:
        """The page's sliders came to rest after a drag or keys (the viewer drew the frames
        itself): the session, numbers and record follow, without a frame."""
        from semantify.app.viewport.service import slider_pairs

        by_slot = slider_pairs((getattr(event, "_data", None) or {}).get("values"))
        if by_slot is None:
            raise SemantifyError("the slider values sent are not valid; move a slider again.")
        rt = self.runtime_of(session)
        values = rt.panel.placed(session.values, by_slot)
        session, shape = view.with_values(session, rt, values,
                                          set_names=view.set_after(session, rt, values))
        self.frames.follow(session.view, view.follow(session, rt))
        return {self.ui.state: session,
                self.ui.measures: rt.table(session.vertices, session.values, session.set_names),
                self.ui.record: view.record(session, rt), self.ui.info: notices(shape.notes),
                self.ui.heat_key: view.colour_key(session),
                **self.slider_values(session, rt)}

    @released(VIEW)
    @reports_errors
    def set_look(self, session: Session, pose, appearance, enabled: bool) -> dict:
        """The pose, skin or clay, or the heatmap changed: redraw (measurements stay: they
        are always of the rest pose)."""
        from semantify.appearance import check_appearance
        from semantify.poses import offered_poses

        rt = self.runtime_of(session)
        poses = [p.name for p in offered_poses(rt.slider_set.model)]
        pose = pose or "rest"
        if pose not in poses:  # a listed name only: never a pose file a visitor names
            raise SemantifyError(f"unknown pose; pick one of {', '.join(poses)}.")
        session = dataclasses.replace(session, pose=pose, heatmap=bool(enabled),
                                      appearance=check_appearance(appearance or "skin"))
        return self.drawn(session, rt)

    @released(VIEW)
    @reports_errors
    def set_heatmap(self, session: Session, enabled: bool) -> dict:
        """API twin of the heatmap checkbox."""
        session = dataclasses.replace(session, heatmap=bool(enabled))
        return self.drawn(session, self.runtime_of(session))

    def announce(self, session: Session) -> dict:
        """Tell the page its view id (after ``start``, whose outputs stay plain for API
        clients)."""
        return {self.ui.viewer: gr.HTML(view=session.view)}

    @released(VIEW)
    @reports_errors
    def reopen_view(self, session: Session) -> dict:
        """The page's view was forgotten (the server keeps the most recent ones): a new one."""
        session = dataclasses.replace(session, view=self.frames.open(session.token,
                                                                     session.address))
        return self.drawn(session, self.runtime_of(session))

    @released(HEAVY)
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

    @released(VIEW)
    @reports_errors
    def reset(self, session: Session) -> dict:
        rt = self.runtime_of(session)
        if rt.slider_set.body_model is not None:  # every slider free: the most likely person
            session, shape = view.with_values(session, rt, rt.slider_set.defaults, set_names=())
            return {**self.shown(session, rt, shape.notes), **self.slider_values(session, rt)}
        return self.jump(session, rt, rt.slider_set.defaults)

    @released(VIEW)
    @reports_errors
    def free_slider(self, session: Session, name) -> dict:
        """A set slider back to free (↺): it follows the most likely body again."""
        rt = self.runtime_of(session)
        slider_set = rt.slider_set
        if slider_set.body_model is None or name not in slider_set.names:
            return {self.ui.state: session, self.ui.free: gr.Dropdown(value=None)}
        kept = tuple(n for n in (session.set_names or slider_set.names) if n != name)
        session, shape = view.with_values(session, rt, session.values, set_names=kept)
        return {**self.shown(session, rt, shape.notes), **self.slider_values(session, rt),
                self.ui.heat_key: view.colour_key(session), self.ui.free: gr.Dropdown(value=None)}

    @released(VIEW)
    @reports_errors
    def randomise(self, session: Session) -> dict:
        """A shape from the model's sampling prior, shown as this set's slider values."""
        rt = self.runtime_of(session)
        shape = rt.slider_set.random(secrets.randbelow(2**31))
        return self.jump(session, rt, shape.values, shape.notes)

    @released(HEAVY)
    @reports_errors
    def ramp(self, session: Session, index) -> dict:
        rt = self.runtime_of(session)
        if not isinstance(index, int) or not 0 <= index < len(rt.slider_set.sliders):
            raise SemantifyError("pick the slider to animate first.")
        path = animation.ramp_gif(session, rt, index, self.frames.camera(session.view))
        return {self.ui.ramp_view: gr.Image(value=str(path), visible=True)}

    # -- photos ---------------------------------------------------------------------------

    @released(HEAVY)
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

    @released(HEAVY)
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

    @released(HEAVY)
    @reports_errors
    def prompt(self, session: Session, text: str, method: str) -> dict:
        """Sliders jump to the shape a free-text prompt describes."""
        rt = self.runtime_of(session)
        shape = rt.slider_set.from_text(text, method, start=dict(zip(rt.slider_set.names,
                                                                     session.values)))
        return self.jump(session, rt, shape.values, shape.notes)

    def _job_allowed(self, session: Session) -> Session:
        """On a public server, each network address may start PUBLIC_JOBS_PER_HOUR training
        jobs (however many sessions it opens)."""
        if not self.config.public:
            return session
        now = time.time()
        with self._jobs_lock:
            recent = [t for t in self._jobs.get(session.address, ()) if now - t < PUBLIC_JOB_WINDOW]
            if len(recent) >= limits.PUBLIC_JOBS_PER_HOUR:
                raise SemantifyError(f"this public server trains at most "
                                     f"{limits.PUBLIC_JOBS_PER_HOUR} new slider sets per visitor "
                                     "an hour; try again later, or run Semantify on your own "
                                     "machine.")
            self._jobs[session.address] = recent + [now]
        return session

    def _saved(self, folder, session: Session) -> str:
        """Where a new set went: its name on a public server, its folder otherwise."""
        return folder.name if self.config.public else str(folder)

    @released(HEAVY)
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

    @released(HEAVY)
    @reports_errors
    def build(self, session: Session, model_id, clip_choice, checkpoint, samples,
              quick) -> dict:
        """Queue a build of ``model_id``'s recipe with the tab's options; its state shows in
        the tab, and the set joins this session's list when done."""
        from semantify.app.first_build import CUSTOM_BUILD_REMEDY, status_text
        from semantify.app.layout import CLIP_CHOICES

        if self.first_builds is None:
            raise SemantifyError("this server does not build slider sets.")
        if not isinstance(model_id, str) or f"raw-{model_id}" not in {
                e.id for e in self.catalog.entries()}:
            raise SemantifyError("pick a model from the list.")
        choice = CLIP_CHOICES.index(clip_choice) if clip_choice in CLIP_CHOICES else 0
        samples = str(samples if samples is not None else "").strip()
        if samples and not (samples.isascii() and samples.isdigit()
                            and int(samples) <= limits.MAX_APP_BUILD_SAMPLES):
            raise SemantifyError(f"samples must be a whole number up to "
                                 f"{limits.MAX_APP_BUILD_SAMPLES}, or empty for the recipe's.")
        samples = int(samples) if samples else None
        session = self._job_allowed(session)
        settings = self.first_builds.custom(
            model_id, ("tiny-random" if choice == 2 else None),
            str(checkpoint or "") if choice == 1 else None, samples, bool(quick))
        state = self.first_builds.submit_custom(settings, session.token, session.address)
        session = dataclasses.replace(session, custom_build=str(settings.default_out()))
        return {self.ui.state: session,
                self.ui.build_log: status_text(state, CUSTOM_BUILD_REMEDY),
                self.ui.info: notices([f"{settings.title}: queued; its progress shows in "
                                       "the Build sliders tab."])}

    # -- export and params ----------------------------------------------------------------

    @released(HEAVY)
    @reports_errors
    def export(self, session: Session, posed: bool = False) -> dict:
        rt = self.runtime_of(session)
        paths = exports.export_files(session, rt, view.record(session, rt),
                                     session.pose if posed else "rest")
        glb = next(str(p) for p in paths if p.suffix == ".glb")
        return {self.ui.files: [str(p) for p in paths], self.ui.preview: glb,
                self.ui.info: notices([f"exported {', '.join(p.name for p in paths)}."])}

    @released(HEAVY)
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
        set_names = tuple(shape.set_values) if rt.slider_set.body_model is not None else None
        if entry.id != session.entry:
            session = view.opened(session, rt, shape.values)
            session, _ = view.with_values(session, rt, shape.values, set_names=set_names)
            return {**self.opened(session, rt, ["params loaded."]),
                    self.ui.picker: self.picker(session)}
        return self.jump(session, rt, shape.values, ["params loaded."], set_names)


def _preview(image, side: int = 512):
    """(H, W, 3) uint8 of ``image`` at most ``side`` pixels on its longest side."""
    import numpy as np

    small = image.copy()
    small.thumbnail((side, side))
    return np.asarray(small.convert("RGB"))
