"""The first build: a model with no word set gets one button that builds its recipe.

One :class:`FirstBuilds` serves every page of a server. It runs the shipped recipe of a model
(``semantify build RECIPE``) through one :class:`lightning_modules.build_queue.BuildQueue`, so
one build runs at a time and the others wait their turn. A build's state lives in its folder
(``build.json``, ``.progress.json``), so a reloaded page, or a restarted server
(:meth:`FirstBuilds.restore`), finds it again. A first build makes the model's default word
set, the same for everyone, so it is listed for every session once done.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

from semantify import limits
from semantify.app.config import AppConfig
from semantify.app.text import shown
from semantify.errors import SemantifyError

# Measured with bench/build.py on an idle 2-core CPU: ViT-B-32 fp32 encodes about 7.5 images/s
# per core; the stages besides generation take well under a minute (a minute is promised).
IMAGES_PER_SECOND_PER_CORE = 7.5
OTHER_STAGES_SECONDS = 60
# Download size of the CLIP weights a recipe names, for the button's promise.
DOWNLOAD_MB = {"ViT-B-32/laion2b_s34b_b79k": 605}


def minutes_here(samples: int, views: int) -> int:
    """Whole minutes a build of ``samples`` x ``views`` renders (and its photographed bodies)
    should take on this CPU."""
    from semantify.sets.photo_views import photographs

    rate = IMAGES_PER_SECOND_PER_CORE * (os.cpu_count() or 1)
    images = samples * views + photographs(samples)
    return max(1, math.ceil((images / rate + OTHER_STAGES_SECONDS) / 60))


class FirstBuilds:
    """The first builds of one server: offers, the queue, and what each page shows."""

    def __init__(self, catalog, config: AppConfig, command=None):
        self.catalog, self.config, self._command = catalog, config, command
        self.version = 0  # bumped when a build finishes: pages then refresh their picker
        self._lock = threading.Lock()
        self._queue = None
        self._settings: dict = {}
        self._by_address: dict[str, Path] = {}  # the last custom build each address queued

    @property
    def queue(self):
        """The server's BuildQueue, made on first use (it imports the Lightning side)."""
        with self._lock:
            if self._queue is None:
                from lightning_modules.build_queue import BuildQueue

                self._queue = BuildQueue(on_finished=self._finished, command=self._command)
            return self._queue

    # -- what a model is offered ---------------------------------------------------------

    def settings(self, model_id: str):
        """The BuildSettings of ``model_id``'s first build, or None without a recipe (worked
        out once per model: pages ask every few seconds)."""
        from semantify.recipes import BuildSettings, recipes_for_model

        if model_id not in self._settings:
            recipes = [r for r in recipes_for_model(model_id) if not r.model.options]
            self._settings[model_id] = None if not recipes else BuildSettings.resolve(
                recipes[0], clip=self.config.build_clip, samples=self.config.build_samples,
                quick=self.config.build_quick)
        return self._settings[model_id]

    def has_word_set(self, model_id: str, token: str, everyone: bool = False) -> bool:
        """Whether session ``token`` sees a word set of ``model_id`` (``everyone``: counting
        sets built in other sessions, as a private server lists them)."""
        return any(not e.is_raw and e.model_ref.id == model_id and e.words
                   for e in self.catalog.visible(token, everyone))

    def offer(self, model_id: str) -> str:
        """The button's label: what a click does and costs."""
        from semantify.clip import weights_cached

        settings = self.settings(model_id)
        name = settings.recipe.title.split(":")[0]
        clip = settings.clip
        size = DOWNLOAD_MB.get(f"{clip.name}/{clip.pretrained}")
        download = ""
        if clip.pretrained and not weights_cached(clip):
            download = (f"downloads {clip.name} (about {size} MB) once, then " if size else
                        f"downloads {clip.name} once, then ")
        minutes = minutes_here(settings.samples, len(settings.recipe.views))
        return f"Build word sliders for {name}: {download}about {minutes} minutes here"

    def custom(self, model_id: str, clip: str | None, checkpoint: str | None,
               samples: int | None, quick: bool):
        """The BuildSettings of a build asked for in the *Build sliders* tab: ``model_id``'s
        recipe with ``clip`` (None: the recipe's), a local ``checkpoint`` (refused on a
        public server: visitors name no server files), ``samples`` and ``quick``."""
        from semantify.recipes import BuildSettings, recipes_for_model

        recipes = [r for r in recipes_for_model(model_id) if not r.model.options]
        if not recipes:
            raise SemantifyError(f"there is no recipe for {model_id}; pick another model.")
        if checkpoint is not None:
            if self.config.public:
                raise SemantifyError("this public server does not open files named by "
                                     "visitors; use the recipe's CLIP.")
            if not checkpoint.strip():
                raise SemantifyError("give the path of a CLIP checkpoint (an open_clip weights "
                                     "file or folder) in the checkpoint box.")
        if self.config.public and samples is not None:  # a stranger's build costs at most
            samples = min(samples, recipes[0].samples)  # what the recipe's own build does
        settings = BuildSettings.resolve(recipes[0], clip=clip, clip_checkpoint=checkpoint,
                                         samples=samples, quick=quick)
        if checkpoint is not None:
            settings.clip.checkpoint_sha256()  # a missing file: one line now, not in the queue
        return settings

    def submit_custom(self, settings, owner: str, address: str = ""):
        """Queue ``settings`` (a custom build, listed for the sessions that asked for it; a
        build with the recipe's own settings is the shared first build) for session ``owner``
        at network ``address``; its JobState. The server queues at most MAX_QUEUED_BUILDS (an
        identical build joins the one queued) and, in public mode, one per address at a
        time."""
        from semantify.app.catalog import add_owner

        out = settings.default_out().resolve()
        with self._lock:
            mine = self._by_address.get(address)
        if self.config.public and mine is not None and mine != out and \
                self.queue.state(mine).state in ("queued", "running"):
            raise SemantifyError("your earlier build is still queued or running (one at a time "
                                 "per visitor on this public server); wait for it to finish.")
        pending = self.queue.pending()
        if out not in pending and len(pending) >= limits.MAX_QUEUED_BUILDS:
            raise SemantifyError(f"{limits.MAX_QUEUED_BUILDS} builds are already queued on this "
                                 "server; try again when one has finished.")
        state = self.queue.submit(settings)
        with self._lock:
            self._by_address[address] = out
        if not settings.is_recipe_default():
            add_owner(settings.default_out(), owner)  # everyone who asked for it sees it
        return state

    # -- jobs ----------------------------------------------------------------------------

    def submit(self, model_id: str):
        """Queue ``model_id``'s first build (once, however many pages ask); its JobState."""
        settings = self.settings(model_id)
        if settings is None:
            raise SemantifyError(f"there is no recipe for {model_id}; build it from the Build "
                                 "sliders tab instead.")
        return self.queue.submit(settings)

    def state(self, model_id: str):
        """The JobState of ``model_id``'s first build, or None if none was asked for."""
        from semantify.recipes.settings import read_record

        settings = self.settings(model_id)
        if settings is None:
            return None
        out = settings.default_out()
        try:
            if read_record(out) is None:
                return None
        except SemantifyError:
            return None
        return self.queue.state(out)

    def restore(self) -> None:
        """Queue the first builds a stopped server left unfinished, and those the operator
        asked for at start-up (``SEMANTIFY_BUILD_ON_START``)."""
        from semantify.paths import built_sets_dir
        from semantify.recipes.settings import unfinished_builds

        if unfinished_builds(built_sets_dir()):  # the queue (and its thread) only if needed
            self.queue.restore()
        for name in self.config.build_on_start:
            from semantify.recipes import BuildSettings, load_recipe

            self.queue.submit(BuildSettings.resolve(
                load_recipe(name), clip=self.config.build_clip,
                samples=self.config.build_samples, quick=self.config.build_quick))

    def _finished(self, out: Path) -> None:
        self.catalog.add(out)  # listed for every session: it is the model's default set
        with self._lock:
            self.version += 1


# What a visitor can do when a build fails: nothing on the page changes its outcome (the fix
# the build printed is for the server's command line, and goes to the server log).
FIRST_BUILD_REMEDY = ("Building again would fail the same way until the server's operator "
                      "fixes this (the server log says how); meanwhile the other entries of "
                      "the list above work.")
CUSTOM_BUILD_REMEDY = ("Change the options above and build again, or ask the server's "
                       "operator (the server log says more).")


def status_text(state, remedy: str = FIRST_BUILD_REMEDY) -> str:
    """One line (markdown) for a JobState: place in the queue, stage and time left, or the
    outcome; a failure says what went wrong (without the command-line fix) and ``remedy``."""
    if state is None:
        return ""
    title = shown(state.title)
    if state.state == "queued":
        ahead = state.position - 1
        return (f"**Queued** — {title}: {ahead} build{'s' if ahead != 1 else ''} ahead "
                f"(place {state.position}).")
    if state.state == "running":
        progress = state.progress
        if progress is None:
            return f"**Building** — {title}: starting…"
        left = "" if progress.build_left is None else \
            f", about {math.ceil(progress.build_left / 60)} min left"
        stage = "download" if progress.index == 0 else \
            f"stage {progress.index}/{progress.count} {progress.stage}"
        return (f"**Building** — {title}: {stage}, {progress.done:.0%} — "
                f"{shown(progress.detail)}{left}.")
    if state.state == "finished":
        return f"**Ready** — {title}: pick it in the list above."
    problem = str(state.error or "the build stopped").partition("; ")[0].rstrip(".")
    return f"**Failed** — {title}: {shown(problem)}. {remedy}"
