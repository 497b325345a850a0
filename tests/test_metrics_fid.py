"""FID and Dist: closed forms for Gaussians, Bailando's normalisation, and the stats file."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from a2a_cli.errors import InputError, WorkError
from a2a_cli.scoring.fid import (
    FeatureStats,
    ReferenceStats,
    build_reference_stats,
    clip_features,
    diversity,
    fid,
    frechet_distance,
)
from metrics_support import random_clips


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 8), seed=st.integers(0, 1000))
def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form(d, seed):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    var1, var2 = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_frechet_distance_agrees_with_scipy_sqrtm_on_full_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    cov1, cov2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = linalg.sqrtm(cov1 @ cov2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean)
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9)


def test_singular_covariances_stay_real_and_non_negative():
    rng = np.random.default_rng(1)
    few = rng.normal(size=(4, 32))  # 4 samples in 32 dimensions: rank-3 covariance
    cov = np.cov(few, rowvar=False)
    assert frechet_distance(few.mean(0), cov, few.mean(0), cov) == pytest.approx(0.0, abs=1e-9)
    value = frechet_distance(few.mean(0), cov, np.zeros(32), np.eye(32))
    assert np.isfinite(value) and value > 0


def test_identical_sets_score_zero_and_a_shifted_set_scores_the_shift():
    rng = np.random.default_rng(2)
    reference = rng.normal(2.0, [0.5, 1.0, 2.0, 4.0], size=(400, 4))
    stats = FeatureStats.of(reference)
    assert fid(reference, stats) == pytest.approx(0.0, abs=1e-9)
    # Shifting raw features by delta shifts the normalised ones by delta / std; covariance is equal.
    delta = np.array([0.5, -1.0, 1.0, 2.0])
    expected = np.sum((delta / (reference.std(axis=0) + 1e-10)) ** 2)
    assert fid(reference + delta, stats) == pytest.approx(expected, rel=1e-9)


def test_normalisation_is_bailandos():
    reference = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    stats = FeatureStats.of(reference)
    np.testing.assert_allclose(stats.norm_mean, [2.0, 10.0])
    np.testing.assert_allclose(stats.norm_std, [np.sqrt(8 / 3), 0.0])  # population std
    np.testing.assert_allclose(stats.normalise(np.array([[4.0, 10.0]])), [[2 / np.sqrt(8 / 3), 0.0]])
    np.testing.assert_allclose(stats.cov, np.cov(stats.normalise(reference), rowvar=False))


def test_diversity_is_the_mean_pairwise_distance():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert diversity(points) == pytest.approx((5 + 10 + 5) / 3)
    assert diversity(points[:1]) == 0.0
    stats = FeatureStats.of(np.array([[0.0, 0.0], [2.0, 4.0]]))  # std 1 and 2
    assert diversity(points, stats) == pytest.approx(np.mean([np.hypot(3, 2), np.hypot(6, 4), np.hypot(3, 2)]))


def test_reference_from_dances_round_trips_through_npz(tmp_path):
    clips = list(random_clips(6, 60, seed=21)) + list(random_clips(3, 45, seed=22))  # two lengths
    stats = build_reference_stats(clips)
    assert stats.n_clips == 9
    path = tmp_path / "ref.npz"
    stats.save(path)
    loaded = ReferenceStats.load(path)
    for name in ("kinetic", "geometric"):
        for field in ("norm_mean", "norm_std", "mean", "cov"):
            np.testing.assert_array_equal(getattr(getattr(loaded, name), field), getattr(getattr(stats, name), field))
    kinetic, geometric = clip_features(clips)
    assert fid(kinetic, loaded.kinetic) == pytest.approx(0.0, abs=1e-6)
    assert fid(geometric, loaded.geometric) == pytest.approx(0.0, abs=1e-6)
    others_k, _ = clip_features(random_clips(5, 60, seed=23) * 1.5)
    assert fid(others_k, loaded.kinetic) > 1.0


def test_clip_features_keep_the_input_order():
    short, long = random_clips(2, 40, seed=31), random_clips(2, 70, seed=32)
    kinetic, _ = clip_features([short[0], long[0], short[1], long[1]])
    from a2a_cli.scoring.kinetic import kinetic_features

    np.testing.assert_array_equal(kinetic[1], kinetic_features(long[0]))
    np.testing.assert_array_equal(kinetic[2], kinetic_features(short[1]))


def test_bad_stats_files_and_too_few_clips_are_input_errors(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros(3))
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "two_versions.npz", format_version=np.array([1, 1]))
    good = build_reference_stats(random_clips(3, 30, seed=4))
    good.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as data:
        fields = dict(data)
    np.savez(tmp_path / "no_count.npz", **{k: v for k, v in fields.items() if k != "n_clips"})
    np.savez(tmp_path / "bad_count.npz", **{**fields, "n_clips": np.zeros(2)})
    for name in ("plain.npy", "other.npz", "junk.npz", "missing.npz", "empty.npz", "two_versions.npz", "no_count.npz",
                 "bad_count.npz"):
        with pytest.raises(InputError):
            ReferenceStats.load(tmp_path / name)
    with pytest.raises(InputError, match="at least 2 dances"):
        build_reference_stats(random_clips(1, 40, seed=3))
    with pytest.raises(InputError, match="at least 2 candidate"):
        fid(np.zeros((1, 4)), FeatureStats.of(np.eye(4)))


def test_an_unwritable_stats_path_is_a_work_error(tmp_path):
    stats = build_reference_stats(random_clips(3, 30, seed=41))
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(WorkError):
        stats.save(tmp_path / "a_file" / "ref.npz")


def test_a_stats_path_that_is_a_folder_is_a_work_error(tmp_path):
    stats = build_reference_stats(random_clips(3, 30, seed=42))
    (tmp_path / "out").mkdir()
    with pytest.raises(WorkError, match="cannot write"):
        stats.save(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary file left behind


def test_stats_files_are_size_checked_before_anything_is_read(tmp_path):
    """The file's size, then each member's declared size and header, against what the statistics need:
    a zip bomb in place of a covariance, or a file carrying megabytes besides the statistics, is refused."""
    good = build_reference_stats(random_clips(3, 30, seed=4))
    good.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as data:
        fields = dict(data)
    np.savez_compressed(tmp_path / "bomb.npz", **{**fields, "kinetic_cov": np.zeros((3000, 3000))})  # 72 MB inflated
    assert (tmp_path / "bomb.npz").stat().st_size < 2**20
    with pytest.raises(InputError, match="member 'kinetic_cov' declares 68.7 MiB"):
        ReferenceStats.load(tmp_path / "bomb.npz")
    np.savez(tmp_path / "padded.npz", **fields, extra=np.random.default_rng(0).normal(size=2**18))  # 2 MB more
    with pytest.raises(InputError, match="larger than any such file"):
        ReferenceStats.load(tmp_path / "padded.npz")
    np.savez(tmp_path / "pickled.npz", **{**fields, "n_clips": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(InputError, match="holds Python objects"):
        ReferenceStats.load(tmp_path / "pickled.npz")
    loaded = ReferenceStats.load(tmp_path / "good.npz")
    assert loaded.n_clips == 3 and np.array_equal(loaded.kinetic.cov, good.kinetic.cov)


def test_set_metrics_of_a_set_against_reference_statistics():
    """FID_k/g and Dist_k/g of a set, from the library (the CLI only prints them); one dance is no set."""
    from a2a_cli.errors import InputError
    from a2a_cli.scoring.fid import build_reference_stats, set_metrics
    from support.dances import beat_frames_of, plausible_dance

    real = [plausible_dance(beat_frames_of(bpm, 6), 180, seed=s).joints for s, bpm in enumerate((96, 112, 128, 144))]
    stats = build_reference_stats(real)
    same = set_metrics(real, stats)
    assert set(same) == {"FID_k", "FID_g", "Dist_k", "Dist_g"}
    assert same["FID_k"] == pytest.approx(0.0, abs=1e-6) and same["FID_g"] == pytest.approx(0.0, abs=1e-6)
    shaky = [clip + np.random.default_rng(0).normal(0, 0.02, clip.shape) for clip in real]
    assert set_metrics(shaky, stats)["FID_k"] > 1.0  # jitter changes the kinetic features a lot
    with pytest.raises(InputError, match="at least 2"):
        set_metrics(real[:1], stats)
