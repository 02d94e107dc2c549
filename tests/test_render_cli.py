"""``semantify render`` end to end on the real Anny body."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from semantify.cli import main


def test_render_two_views_side_by_side(tmp_path):
    out = tmp_path / "x.png"
    code = main(["render", "anny-body", "--random", "3", "--views", "front,side", "--size",
                 "256", "--out", str(out)])
    assert code == 0
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (256, 512, 3)
    for half in (image[:, :256], image[:, 256:]):
        assert half.std() > 10  # a body on the backdrop, in each view


def test_coefficients_file_sets_named_values(tmp_path):
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"model": "anny-body", "coefficients": {"height": 1.0}}))
    code = main(["render", "anny-body", "--coeffs", str(params), "--size", "64", "--out",
                 str(tmp_path / "tall.png")])
    assert code == 0 and (tmp_path / "tall.png").exists()


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    code = main(["render", "anny-body", "--views", "front,sideways", "--out",
                 str(tmp_path / "x.png")])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and "sideways" in error and "front" in error
    (tmp_path / "bad.json").write_text(json.dumps({"model": "anny-body",
                                                   "coefficients": {"tallness": 1}}))
    code = main(["render", "anny-body", "--coeffs", str(tmp_path / "bad.json"), "--out",
                 str(tmp_path / "x.png")])
    error = capsys.readouterr().err
    assert code == 2 and "tallness" in error and "height" in error
    code = main(["render", "anny-body", "--out", str(tmp_path / "no" / "x.png")])
    assert code == 2 and "writable" in capsys.readouterr().err
