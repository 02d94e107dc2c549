"""How the shape is shown: pose, skin or clay, the heatmap, the view itself, and the
turntable and slider animation made from it."""

from __future__ import annotations

import dataclasses

import gradio as gr

from semantify.app import animation, scratch
from semantify.app.admission import CHOICE, HEAVY
from semantify.app.fronts.base import Front, released, reports_errors
from semantify.app.session import Session
from semantify.app.text import notices
from semantify.errors import SemantifyError


class LookFront(Front):
    """The viewer's column: its look, its view, and what is rendered from it."""

    @released(CHOICE)
    @reports_errors
    def set_look(self, session: Session, pose, appearance, enabled: bool) -> dict:
        """The pose, skin or clay, or the heatmap changed: redraw (measurements stay: they
        are always of the rest pose)."""
        from semantify.pictures.appearance import check_appearance
        from semantify.poses import offered_poses

        rt = self.page.runtime_of(session)
        poses = [p.name for p in offered_poses(rt.slider_set.model)]
        pose = pose or "rest"
        if pose not in poses:  # a listed name only: never a pose file a visitor names
            raise SemantifyError(f"unknown pose; pick one of {', '.join(poses)}.")
        session = dataclasses.replace(session, pose=pose, heatmap=bool(enabled),
                                      appearance=check_appearance(appearance or "skin"))
        return self.page.drawn(session, rt)

    @released(CHOICE)
    @reports_errors
    def set_heatmap(self, session: Session, enabled: bool) -> dict:
        """API twin of the heatmap checkbox."""
        session = dataclasses.replace(session, heatmap=bool(enabled))
        return self.page.drawn(session, self.page.runtime_of(session))

    @released(CHOICE)
    @reports_errors
    def reopen_view(self, session: Session) -> dict:
        """The page's view was forgotten (the server keeps the most recent ones): a new one."""
        session = dataclasses.replace(session, view=self.page.frames.open(session.token,
                                                                          session.address))
        return self.page.drawn(session, self.page.runtime_of(session))

    def show_record(self, enabled: bool) -> dict:
        return {self.ui.record: gr.JSON(visible=bool(enabled))}

    @released(HEAVY)
    @reports_errors
    def turntable(self, session: Session) -> dict:
        """A 360-degree MP4 of the shape on show, in its pose and look."""
        from semantify.pictures.turntable import write_turntable

        rt = self.page.runtime_of(session)
        path = write_turntable(scratch.session_folder(session.token) / "turntable.mp4",
                               rt.slider_set.model, session.coefficients, session.pose,
                               session.appearance, size=384, frames=72, fps=24)
        return {self.ui.turntable_file: gr.File(value=str(path), visible=True),
                self.ui.info: notices([f"wrote {path.name}."])}

    @released(HEAVY)
    @reports_errors
    def ramp(self, session: Session, index) -> dict:
        """A GIF of one slider swept low -> high -> low around the shape on show."""
        rt = self.page.runtime_of(session)
        if not isinstance(index, int) or not 0 <= index < len(rt.slider_set.sliders):
            raise SemantifyError("pick the slider to animate first.")
        path = animation.ramp_gif(session, rt, index, self.page.frames.camera(session.view))
        return {self.ui.ramp_view: gr.Image(value=str(path), visible=True)}
