"""How the page names and groups a raw model's coefficients, and the round steps of sliders."""

from __future__ import annotations

import pytest

from semantify.app.slider_labels import ALL_REGIONS, SliderLabel, labelled, matches, regions
from semantify.sets.sliders import Slider


@pytest.mark.parametrize("name, region, text", [
    ("chin-cleft-incr", "Chin", "Chin: cleft"),
    ("cheek-trans-up", "Cheek", "Cheek: move up"),
    ("measure-upperarm-length-incr", "Upper arm", "Upper arm: length"),
    ("ear-scale-incr", "Ear", "Ear: size"),
    ("mouthSmileLeft", "Mouth", "Mouth: smile left"),
    ("weight", "", "weight"),
])
def test_coefficients_read_as_words_in_their_region(name, region, text):
    assert labelled(name) == SliderLabel(region, text)


def test_regions_and_the_filter():
    names = ["browDownLeft", "mouthSmileLeft", "browInnerUp", "mouthSmileRight", "tongueOut"]
    assert regions(names) == ["Brow", "Mouth", "Tongue"]
    shown = [n for n in names if matches(labelled(n), ALL_REGIONS, " SMILE ")]
    assert shown == ["mouthSmileLeft", "mouthSmileRight"]
    assert [n for n in names if matches(labelled(n), "Brow", "")] == ["browDownLeft",
                                                                     "browInnerUp"]


@pytest.mark.parametrize("low, high, step", [(146.4, 190.9, 0.1), (42.3, 155.2, 0.1),
                                             (0.0, 1.0, 0.001), (-3.0, 3.0, 0.01)])
def test_slider_steps_are_round(low, high, step):
    """A typed 185 cm stays 185: steps are powers of ten, not a 200th of the range."""
    slider = Slider("height", low, high, low)
    assert slider.step == pytest.approx(step)
