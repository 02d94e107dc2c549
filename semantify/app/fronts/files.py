"""The files tab: exports of the shape on show, and params files loaded back."""

from __future__ import annotations

from semantify.app import exports, view
from semantify.app.admission import HEAVY
from semantify.app.fronts.base import Front, released, reports_errors
from semantify.app.runtime import runtime
from semantify.app.session import Session
from semantify.app.text import notices
from semantify.errors import SemantifyError


class FileFront(Front):
    """Exports and params."""

    @released(HEAVY)
    @reports_errors
    def export(self, session: Session, posed: bool = False) -> dict:
        rt = self.page.runtime_of(session)
        paths = exports.export_files(session, rt, view.params(session, rt),
                                     session.pose if posed else "rest")
        glb = next(str(p) for p in paths if p.suffix == ".glb")
        return {self.ui.files: [str(p) for p in paths], self.ui.preview: glb,
                self.ui.info: notices([f"exported {', '.join(p.name for p in paths)}."])}

    @released(HEAVY)
    @reports_errors
    def load_params(self, session: Session, path) -> dict:
        """Open the set the params name (when listed here) at their values."""
        from semantify.sets.params import Params

        if not path:
            return {self.ui.state: session}
        page, catalog = self.page, self.page.catalog
        params = Params.read(path, name="the params file",
                             fix="load a params.json exported by Semantify")
        entry = catalog.get(session.entry)
        if params.slider_set is None:
            entry = catalog.raw(params.model.id)
        elif entry.is_raw or entry.name != params.slider_set:
            entry = catalog.find_set(params.slider_set, params.model.id, session.token)
        if entry is None:
            raise SemantifyError("the params are for a model or slider set this server does "
                                 "not offer; open the set they were made with, then load them.")
        rt = runtime(entry)
        shape = rt.slider_set.shape_from_params(params, "the params file")
        set_names = tuple(shape.set_values) if rt.slider_set.body_model is not None else None
        if entry.id != session.entry:
            session = view.opened(session, rt, shape.values)
            session, _ = view.with_values(session, rt, shape.values, set_names=set_names)
            return {**page.opened(session, rt, ["params loaded."]),
                    self.ui.picker: page.picker(session)}
        return page.jump(session, rt, shape.values, ["params loaded."], set_names)
