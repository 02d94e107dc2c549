"""The body model behind free metric sliders: conditioning, the typical region, its checks."""

import pytest
import torch

from semantify.errors import SemantifyError
from semantify.measurements.conditional import BodyModel, Limit, chi2_quantile
from semantify.measurements.human import inhuman


@pytest.fixture(scope="module")
def body():
    """Height, mass and one coefficient: mass grows with height, the coefficient with mass."""
    generator = torch.Generator().manual_seed(0)
    height = 170 + 8 * torch.randn(4000, generator=generator, dtype=torch.float64)
    mass = 75 + 0.9 * (height - 170) + 12 * torch.randn(4000, generator=generator,
                                                        dtype=torch.float64)
    weight = 0.5 + 0.01 * (mass - 75) + 0.05 * torch.randn(4000, generator=generator,
                                                           dtype=torch.float64)
    return BodyModel.fit(("height_cm", "mass_kg", "weight"),
                         torch.stack([height, mass, weight], 1))


def test_conditioning_keeps_the_set_values_and_follows_the_population(body):
    predicted = body.predict(["height_cm"], torch.tensor([[150.0], [190.0]]))
    assert predicted[:, 0].tolist() == [150.0, 190.0]
    assert 50 < predicted[0, 1] < 62 and 88 < predicted[1, 1] < 100  # 75 -+ 0.9 x 20
    assert predicted[0, 2] < predicted[1, 2]
    assert torch.allclose(body.predict([], torch.zeros(1, 0))[0], body.mean)


def test_typical_region_returns_the_nearest_person_monotone_and_leaves_people_alone(body):
    scale = torch.tensor([45.0, 110.0])
    inside = torch.tensor([[170.0, 75.0], [180.0, 90.0]])
    assert torch.equal(body.typical(["height_cm", "mass_kg"], inside, scale), inside)
    masses = torch.linspace(20, 200, 40, dtype=torch.float64)
    asked = torch.stack([torch.full_like(masses, 190.0), masses], 1)
    got = body.typical(["height_cm", "mass_kg"], asked, scale)
    radius = chi2_quantile(2)
    assert (body.distance2(["height_cm", "mass_kg"], got) <= radius * 1.0001).all()
    assert (got[:, 1].diff() >= -1e-9).all()  # a sweep never moves its target backwards
    assert (got[:, 1].diff().abs() < 5).all()  # and never jumps
    bounded = body.typical(["height_cm"], torch.tensor([[200.0]]), scale[:1],
                           [Limit({"mass_kg": 1.0}, 40.0, 90.0)])
    assert float(body.predict(["height_cm"], bounded)[0, 1]) <= 90.0 + 1e-6
    proportioned = body.typical(["height_cm", "mass_kg"], torch.tensor([[170.0, 100.0]]), scale,
                                Limit.ratio("mass_kg", "height_cm", 0.2, 0.5))  # a proportion
    assert float(proportioned[0, 1] / proportioned[0, 0]) <= 0.5 + 1e-6


def test_bad_body_models_are_refused(body):
    with pytest.raises(SemantifyError, match="positive definite"):
        BodyModel(("a", "b"), torch.zeros(2), torch.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(SemantifyError, match="mean"):
        BodyModel(("a", "b"), torch.zeros(3), torch.eye(2))
    with pytest.raises(SemantifyError, match="more bodies"):
        BodyModel.fit(("a", "b", "c"), torch.zeros(3, 3))
    with pytest.raises(SemantifyError, match="no variable 'waist_cm'"):
        body.predict(["waist_cm"], torch.zeros(1, 1))


def test_human_checks_are_data_and_catch_stick_legs():
    people = {"height_cm": torch.tensor([170.0, 194.6]), "inseam_cm": torch.tensor([80.0, 100.0]),
              "arm_cm": torch.tensor([53.0, 61.0]), "shoulder_cm": torch.tensor([39.0, 44.0])}
    failed = inhuman(people)
    assert failed[0] == [] and failed[1] and failed[1][0].startswith("inseam_cm/height_cm")


def test_the_nearest_point_of_the_typical_ellipsoid_is_on_it_and_nearest():
    """Projection onto {u : u^T Q u <= r^2}: a point outside lands on the boundary, moved
    along Q's normal there (u - p = lam Q p, lam > 0: the nearest point); one inside stays."""
    from semantify.measurements.conditional import _onto_ellipsoid

    generator = torch.Generator().manual_seed(3)
    a = torch.randn(5, 5, generator=generator, dtype=torch.float64)
    q = a @ a.T + 0.01 * torch.eye(5, dtype=torch.float64)  # a long, thin ellipsoid
    eigenvalues, vectors = torch.linalg.eigh(q)
    u = torch.randn(40, 5, generator=generator, dtype=torch.float64) * 3
    u[0] = 0.01  # inside
    p = _onto_ellipsoid(u, eigenvalues, vectors, 9.0)
    assert torch.equal(p[0], u[0])
    outside = ((u @ q) * u).sum(1) > 9.0
    assert outside.sum() > 30
    on = p[outside]
    assert torch.allclose(((on @ q) * on).sum(1), torch.full((len(on),), 9.0, dtype=q.dtype),
                          rtol=1e-9)
    normal, moved = on @ q, u[outside] - on
    lam = (moved * normal).sum(1) / (normal * normal).sum(1)
    assert (lam > 0).all() and torch.allclose(moved, lam[:, None] * normal, atol=1e-8)
