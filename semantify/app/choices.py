"""Dropdowns, radios and checkbox groups refuse a value not among their choices in one line,
without repeating it: Gradio's own check echoes the value (markup and typed paths included)
and lists every choice.

Gradio makes a new component object per session whenever an event updates one, so the check
is changed on the classes, once per process, when the app is built (a subclass would make
Gradio write a ``.pyi`` stub into our source tree).
"""

from __future__ import annotations

import functools

REFUSED = "that choice is not on the list; pick one from the list."


def refuse_without_echo() -> None:
    """Make every Dropdown, Radio and CheckboxGroup refuse an unknown value with REFUSED."""
    import gradio as gr

    for component in (gr.Dropdown, gr.Radio, gr.CheckboxGroup):
        check = component.preprocess
        if getattr(check, "quiet", False):
            continue

        def quiet(self, payload, check=check):
            try:
                return check(self, payload)
            except gr.Error:
                raise gr.Error(REFUSED, print_exception=False) from None

        component.preprocess = functools.wraps(check)(quiet)
        component.preprocess.quiet = True
