import matplotlib.image as mpimg
import numpy as np
import pytest
import torch
import trimesh

from implicit3d.figures import plot_trace
from implicit3d.figures.raster import MARGIN
from implicit3d.reconstruct import reconstruct_mesh
from implicit3d.spheretrace import (
    bound_interval,
    camera_rays,
    first_crossing,
    march,
    normals,
    step_cap,
    trace_image,
    view_basis,
)

RADIUS = 0.5
EPS = 1e-3


class Sphere(torch.nn.Module):
    def __init__(self, radius=RADIUS):
        super().__init__()
        self.radius = radius

    def forward(self, x):
        return x.norm(dim=-1) - self.radius


def sphere_depth(origins, dirs, radius=RADIUS):
    """Analytic first hit of unit-direction rays on the sphere (NaN on misses)."""
    b = (origins * dirs).sum(-1)
    disc = b * b - ((origins * origins).sum(-1) - radius**2)
    return torch.where(disc >= 0, -b - disc.clamp(min=0).sqrt(), torch.full_like(b, float("nan")))


def down_rays(xy, z=2.0):
    """Rays straight down (-z) through the given (x, y)."""
    xy = torch.as_tensor(xy, dtype=torch.float32).reshape(-1, 2)
    origins = torch.cat([xy, torch.full((len(xy), 1), z)], dim=1)
    return origins, torch.tensor([[0.0, 0.0, -1.0]]).expand(len(xy), 3).contiguous()


@pytest.mark.parametrize("distance", [None, 3.0])
def test_traced_sphere_hits_where_expected(distance):
    origins, dirs = camera_rays(48, np.zeros(3), (-0.8, 0.8, -0.8, 0.8), elev=30, azim=40, distance=distance)
    assert torch.allclose(dirs.norm(dim=1), torch.ones(len(dirs)), atol=1e-5)
    m = march(Sphere(), origins, dirs, cap=0.1, eps=EPS, max_steps=128)
    expected = sphere_depth(origins, dirs)
    should_hit = ~torch.isnan(expected)
    # Rays clearly inside or outside the silhouette agree; grazing ones may go either way.
    b = (origins * dirs).sum(-1)
    miss_distance = ((origins * origins).sum(-1) - b * b).sqrt()  # closest approach to the center
    clear = (miss_distance - RADIUS).abs() > 0.02
    assert torch.equal(m.hit[clear], should_hit[clear])
    assert m.hit.sum() > 100 and (~m.hit & m.entered).sum() > 100
    assert torch.isnan(m.t[~m.hit]).all()  # misses report no depth
    # Hits stop within eps of the surface, before it: depth error < eps / cos(incidence).
    points = origins[m.hit] + m.t[m.hit, None] * dirs[m.hit]
    assert (points.norm(dim=1) - RADIUS).abs().max() < EPS
    facing = m.hit & (miss_distance < 0.7 * RADIUS)  # incidence under ~45 degrees
    assert (expected[facing] - m.t[facing]).abs().max() < 2 * EPS
    assert not m.exhausted.any()


def test_step_counts_are_sane():
    # Straight at the center: from the unit ball at z = 1 to the sphere at z = 0.5 with steps of
    # at most 0.1, then a few shrinking steps (safety 0.9 converges like 0.1^k).
    origins, dirs = down_rays([[0.0, 0.0], [0.95, 0.0]])
    m = march(Sphere(), origins, dirs, cap=0.1, safety=0.9, eps=EPS)
    assert m.hit.tolist() == [True, False]
    assert 5 <= m.steps[0] <= 9
    # The miss crosses the ball (chord 2 * sqrt(1 - 0.95^2) = 0.62) in capped steps, then leaves.
    chord = 2 * np.sqrt(1 - 0.95**2)
    assert np.ceil(chord / 0.1) <= m.steps[1] <= np.ceil(chord / 0.1) + 3
    # Uncapped it takes about 1 + log steps for the hit.
    free = march(Sphere(), origins, dirs, cap=None, safety=0.9, eps=EPS)
    assert free.steps[0] < m.steps[0]


def test_the_cap_bounds_every_step():
    class Recording(torch.nn.Module):
        """A field that overestimates distances fivefold; records where it is evaluated."""

        def __init__(self):
            super().__init__()
            self.points = []

        def forward(self, x):
            self.points.append(x.clone())
            return 5.0 * (x.norm(dim=-1) - RADIUS)

    field = Recording()
    origins, dirs = down_rays([[0.1, 0.05]])
    march(field, origins, dirs, cap=0.07, max_steps=40)
    ts = torch.stack([((p - origins) * dirs).sum(-1) for p in field.points]).squeeze(1)
    assert len(ts) >= 5
    assert ts.diff().abs().max() <= 0.07 + 1e-5


def test_cap_stops_tunnelling_through_a_thin_slab():
    # A slab |z| < 0.02 whose model, like one trained with a clamped loss, says only "far" (0.6)
    # beyond |sdf| 0.1: raw steps jump over it, capped ones do not.
    def lying_slab(x):
        true = x[:, 2].abs() - 0.02
        return torch.where(true.abs() > 0.1, torch.sign(true) * 0.6, true)

    origins, dirs = down_rays([[0.0, 0.0], [0.3, -0.2]])
    free = march(lying_slab, origins, dirs, cap=None, safety=0.9)
    capped = march(lying_slab, origins, dirs, cap=0.1, safety=0.9)
    assert not free.hit.any()  # overshoot: left the volume on the far side
    assert capped.hit.all()
    entry = bound_interval(origins, dirs)[0]
    surface = 2.0 - 0.02  # the slab's top face along these rays (origin z = 2)
    assert (capped.t - surface).abs().max() < EPS
    # The fine fixed-step march finds the first crossing the uncapped trace missed.
    crossing = first_crossing(lying_slab, origins, dirs, step=0.004)
    assert (crossing - surface).abs().max() < 1e-3
    assert (crossing > entry).all()


def test_bounds_and_rays_that_miss_them():
    origins, dirs = down_rays([[0.0, 0.0], [0.9, 0.9], [1.2, 0.0]])
    near, far = bound_interval(origins, dirs, "sphere")
    assert near[0] == pytest.approx(1.0) and far[0] == pytest.approx(3.0)
    assert not near[1] < far[1] and not near[2] < far[2]  # outside the unit ball
    near, far = bound_interval(origins, dirs, "cube")
    assert near[:2].tolist() == pytest.approx([1.0, 1.0]) and far[:2].tolist() == pytest.approx([3.0, 3.0])
    assert not near[2] < far[2]
    m = march(Sphere(), origins, dirs, bound="sphere")
    assert m.entered.tolist() == [True, False, False]
    assert m.steps.tolist()[1:] == [0, 0] and m.hit.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="bound"):
        bound_interval(origins, dirs, "torus")


def test_normals_of_a_sphere_point_outward():
    points = torch.nn.functional.normalize(torch.randn(100, 3), dim=1) * RADIUS
    n = normals(Sphere(), points, h=1e-3)
    assert ((n * points / RADIUS).sum(1) > 0.999).all()


def test_view_basis_and_step_cap():
    u, v, w = view_basis(20, -60)
    assert np.allclose(np.stack([u, v, w]) @ np.stack([u, v, w]).T, np.eye(3))
    assert v[2] > 0 and abs(u[2]) < 1e-12  # up stays up, right is horizontal
    assert step_cap({}) == 0.1
    assert step_cap({"loss": "l1_clamp", "clamp": 0.05}) == 0.05
    assert step_cap({"loss": "mse"}) is None


def test_trace_image_and_figure(tmp_path):
    window = (-0.6, 0.6, -0.6, 0.6)
    trace = trace_image(Sphere(0.4), np.zeros(3), window, resolution=64)
    assert trace.shade.shape == trace.steps.shape == (64, 64)
    info = trace.summary()
    assert info["hit_fraction"] == pytest.approx(np.pi * 0.4**2 / 1.2**2, rel=0.05)
    assert ((trace.shade > 0) == trace.hit).all() and trace.shade.max() <= 1.0
    assert 1 < info["mean_steps"] < 20 and info["cap"] == 0.1

    truth = trimesh.creation.icosphere(subdivisions=3, radius=0.4)
    recon = reconstruct_mesh(Sphere(0.4), resolution=24)
    info = plot_trace(Sphere(0.4), recon, truth, tmp_path / "t.png", "sphere", resolution=48, cap=0.1)
    h, w, _ = mpimg.imread(tmp_path / "t.png").shape
    assert w > 2 * h > 600
    # The rendering's framing: the sphere's outline fills the square window, bar its margin.
    assert info["hit_fraction"] == pytest.approx(np.pi / 4 / MARGIN**2, abs=0.03)
    plot_trace(Sphere(0.4), None, truth, tmp_path / "empty.png", resolution=16, cap=None)
    assert (tmp_path / "empty.png").stat().st_size > 0
