import numpy as np
import pytest
import trimesh

from implicit3d.groundtruth import set_threads
from implicit3d.sampling import (
    PLACE_BATCH,
    SamplingSpec,
    SplitSpec,
    sample_all,
    sample_near_surface,
    sample_volume,
    split_rng,
    surface_points,
)

SPEC = SamplingSpec(
    train=SplitSpec(3000, (0.003, 0.01), 2000),
    val=SplitSpec(500, (0.01,), 500),
    test=SplitSpec(2000, (0.01,), 2000),
)


def test_volume_points_are_uniform_in_the_unit_ball():
    p = sample_volume(np.random.default_rng(0), 200_000, "sphere")
    r = np.linalg.norm(p, axis=1)
    assert r.max() <= 1.0
    # Uniform in a ball: P(r < t) = t^3, so the mean radius is 3/4 and half the points lie beyond 0.5^(1/3).
    assert r.mean() == pytest.approx(0.75, abs=0.005)
    assert np.mean(r < 0.5 ** (1 / 3)) == pytest.approx(0.5, abs=0.005)
    np.testing.assert_allclose(p.mean(0), 0.0, atol=0.01)


def test_cube_volume_and_unknown_volume():
    p = sample_volume(np.random.default_rng(0), 10_000, "cube")
    assert np.abs(p).max() <= 1.0 and np.abs(p).max() > 0.99
    with pytest.raises(ValueError, match="unknown volume 'torus'"):
        sample_volume(np.random.default_rng(0), 10, "torus")


def test_near_surface_noise_has_requested_std():
    fine = trimesh.creation.icosphere(subdivisions=5, radius=0.8)  # faceting far below the noise
    p = sample_near_surface(np.random.default_rng(0), fine, 50_000, 0.01)
    # Radial offset from the sphere of radius 0.8 follows the noise (the faceting is far below 0.01).
    offset = np.linalg.norm(p, axis=1) - 0.8
    assert offset.std() == pytest.approx(0.01, rel=0.05)
    assert abs(offset.mean()) < 1e-3


def test_sampling_is_deterministic_and_splits_are_disjoint(sphere):
    a, _ = sample_all(sphere, SPEC)
    b, _ = sample_all(sphere, SPEC)
    assert a.equals(b)
    keys = {s: set(map(tuple, part[["x", "y", "z"]].to_numpy())) for s, part in a.groupby("split", observed=True)}
    assert not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    counts = a.groupby(["split", "kind"], observed=True).size()
    assert counts[("test", "near")] == 2000 and counts[("test", "volume")] == 2000
    assert counts[("train", "near")] == 3000


def test_split_streams_do_not_depend_on_other_splits_sizes(sphere):
    bigger = SamplingSpec(train=SplitSpec(9000, (0.01,), 100), val=SPEC.val, test=SPEC.test)
    a, _ = sample_all(sphere, SPEC)
    b, _ = sample_all(sphere, bigger)
    ta, tb = a[a.split == "test"].reset_index(drop=True), b[b.split == "test"].reset_index(drop=True)
    np.testing.assert_array_equal(ta[["x", "y", "z"]].to_numpy(), tb[["x", "y", "z"]].to_numpy())


def test_sdf_sign_is_negative_inside(sphere):
    frame, stats = sample_all(sphere, SPEC)
    r = np.linalg.norm(frame[["x", "y", "z"]].to_numpy(), axis=1)
    far = np.abs(r - 0.8) > 0.02
    assert np.all((frame["sdf"].to_numpy() < 0)[far] == (r < 0.8)[far])
    assert stats["dropped"] == 0


def test_split_rngs_differ():
    assert split_rng(0, "train").random() != split_rng(0, "test").random()


@pytest.mark.parametrize("count", [0, 1, 999, 20000, 2 * PLACE_BATCH + 1])
def test_surface_points_are_trimeshs_bit_for_bit(count):
    """Our own sampler keeps the points trimesh drew before it, so stored samples stay valid; in
    three threads where the count is large enough for more than one."""
    thin = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [0, 1e-3, 0], [0, 0, 1]], [[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
    set_threads(3)
    try:
        for mesh in (trimesh.creation.icosphere(subdivisions=2), trimesh.creation.annulus(0.2, 0.5, 0.3), thin):
            for seed in (0, 7, 2**31 - 2):
                expected, expected_faces = trimesh.sample.sample_surface(mesh, count, seed=seed)
                got, faces = surface_points(mesh, count, seed)
                assert got.shape == (count, 3) and np.array_equal(got, expected)
                assert np.array_equal(faces, expected_faces)
    finally:
        set_threads(None)
