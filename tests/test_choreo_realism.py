"""`choreo` moves like a person: statistics against real dancers, styles read from the music.

The four body statistics of the judge's realism term (`scoring.body_stats`, tested on bodies whose
answer is known in test_body_stats.py) on generated dances of short synthetic songs of different
character (`examples.synth_genre_song`), and the traits of the judge's realism model (judge 3.0),
which told the choreo of judge 2.0 from real dancers in every window (issue 17 made it more human).
Since judge 3.1 the realism model also learns real dancing against choreo's own, and tells it from
people again: choreo is procedural, and the judge must not pay it as a person.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from a2a_cli.audio import analyze
from a2a_cli.examples import synth_genre_song
from a2a_cli.generation.choreo import STYLES, ChoreoGenerator
from a2a_cli.generation.choreo.moves import MOVES
from a2a_cli.motion import skeleton as sk
from a2a_cli.scoring.body_stats import body_statistics, reference_ranges
from a2a_cli.scoring import score_motion
from a2a_cli.scoring.kinetic import kinetic_features
from a2a_cli.motion.formats import load_motion
from support.dances import loop_one_move, static_pose, white_noise

SR = 22050
FPS = 30
PROCEDURAL = Path(__file__).parent / "data" / "procedural"  # the choreo of judge 2.0, frozen


@cache
def genre_song(genre: str, seconds: float = 15.0):
    return analyze(synth_genre_song(genre, seconds, SR, seed=4), SR)


@cache
def genre_dance(genre: str, seed: int = 0, style: str = "auto"):
    audio = genre_song(genre)
    return ChoreoGenerator(style).generate(audio, audio.duration_s, seed)


# --- generated dances against real dancers --------------------------------------------------------

def test_dances_of_different_songs_move_like_real_dancers():
    """The median of each statistic over dances of four songs lies inside the real 10th-90th range."""
    stats = [body_statistics(genre_dance(g).joints) for g in ("hiphop", "house", "ballad", "electro")]
    for key, real in reference_ranges().items():
        median = float(np.median([s[key] for s in stats]))
        assert real.low <= median <= real.high, (key, median, [round(s[key], 2) for s in stats])


@pytest.mark.parametrize("genre", ["hiphop", "house", "ambient", "electro"])
def test_every_style_passes_the_judges_gates_and_ranks_above_the_tricks(genre):
    """Every gate and the sync and variety factors pass; the realism model (judge 3.1) tells the body
    from people's (realism factor 0.2-0.3, named in the reasons); the tricks on the same song still
    score below it."""
    audio, dance = genre_song(genre), genre_dance(genre)
    report = score_motion(dance, audio)
    assert report.passed, [g for g in report.gates if not g.passed]
    assert report.factors["sync"] >= 0.9 and report.factors["variety"] >= 0.9, report.factors
    assert report.factors["realism"] < 0.35 and any(r.startswith("realism factor") and "people" in r for r in report.reasons)
    tricks = {"static pose": static_pose(dance.n_frames), "white noise": white_noise(dance.n_frames),
              "loop of one 1-second move": loop_one_move(dance, 1.0)}
    trick_scores = {name: score_motion(m, audio).validator_score for name, m in tricks.items()}
    assert max(trick_scores.values()) < report.validator_score, (report.validator_score, trick_scores)


def test_what_gave_the_procedural_dancer_away_is_gone():
    """Issue 17's list, trait by trait (`motion_traits`, window medians over the four styles' dances),
    against the frozen choreo of judge 2.0 (tests/data/procedural) and people (issue 16: least knee
    bend 3.5 deg, slowest 10 % of hand speed 0.43 m/s, hands never still, periodicity 0.56, stance
    0.44 m, twist range 31 deg, side lean 3.6 deg, turning 0.68 rad/s): legs straighten, hands keep
    moving, the timing is less metronomic, the stance wider, the torso twists and leans, the body
    turns; and the realism density's credit goes from nothing to most of people's, while the whole
    model, which learned choreo's windows against people's, still tells it (judge 3.1)."""
    from dataclasses import replace

    from a2a_cli.scoring.motion_traits import trait_names, window_traits
    from a2a_cli.scoring.realism import shipped_model

    column = {name: i for i, name in enumerate(trait_names())}
    new = np.concatenate([window_traits(genre_dance("house", style=name).joints) for name in STYLES])
    old = np.concatenate([window_traits(load_motion(p).joints) for p in sorted(PROCEDURAL.glob("choreo_*_122bpm.npz"))])
    now, before = np.median(new, axis=0), np.median(old, axis=0)
    assert before[column["least_knee_bend"]] > 25 and now[column["least_knee_bend"]] < 15
    assert before[column["slow_hand_speed"]] < 0.01 and now[column["slow_hand_speed"]] > 0.1
    assert before[column["hand_still_fraction"]] > 0.2 and now[column["hand_still_fraction"]] < 0.05
    assert now[column["speed_periodicity"]] < before[column["speed_periodicity"]] - 0.1
    assert now[column["stance_width"]] > before[column["stance_width"]] + 0.03
    assert now[column["twist_range"]] > before[column["twist_range"]] + 3
    assert now[column["side_lean"]] > 1.5 * before[column["side_lean"]]
    assert now[column["turning_rate"]] > 2 * before[column["turning_rate"]]
    model = shipped_model()
    density = replace(model, discriminant=None)
    assert np.mean(density.credits(old)) < 0.05 and np.mean(density.credits(new)) > 0.4
    assert np.mean(model.credits(new)) < 0.1


@pytest.mark.parametrize("genre", ["hiphop", "house"])
def test_planted_feet_stay_planted(genre):
    """A foot on the floor (its lowest joint within 2 cm of the floor) hardly slides: the skate
    speed of the judge's gate is 0.5 m/s; planted feet here stay under 0.15 m/s in 97 % of frames."""
    joints = genre_dance(genre).joints
    for ankle, toe in ((sk.L_ANKLE, sk.L_FOOT), (sk.R_ANKLE, sk.R_FOOT)):
        foot = joints[:, [ankle, toe]]
        low = foot[:, :, 1].min(axis=1) < foot[:, :, 1].min() + 0.02
        speed = np.linalg.norm(np.diff(foot[:, :, [0, 2]], axis=0), axis=-1).max(axis=1) * FPS
        planted = low[1:] & low[:-1]
        assert planted.mean() > 0.3  # it does stand
        assert np.percentile(speed[planted], 97) < 0.15


def test_the_dancer_steps_travels_and_turns():
    joints = genre_dance("house").joints
    root = joints[:, sk.PELVIS]
    assert np.hypot(np.ptp(root[:, 0]), np.ptp(root[:, 2])) > 0.25  # it goes places
    assert body_statistics(joints)["travel_m_s"] > 0.16
    assert np.hypot(*root[-1, [0, 2]]) < 2.0  # and comes back toward the middle
    hips = joints[:, sk.L_HIP] - joints[:, sk.R_HIP]
    facing = np.degrees(np.arctan2(hips[:, 2], hips[:, 0]))
    assert np.ptp(facing) > 30  # it turns to face other ways


# --- style from the music ---------------------------------------------------------------------------

def test_songs_of_different_character_get_different_styles_and_dances():
    chosen = {g: genre_dance(g).meta["style"] for g in ("hiphop", "house", "ambient", "electro")}
    assert chosen == {"hiphop": "hiphop", "house": "house", "ambient": "flow", "electro": "popping"}
    meta = genre_dance("house").meta
    assert meta["style_chosen_by"] == "music" and meta["music"]["tempo_bpm"] == pytest.approx(124, abs=4)
    assert genre_dance("hiphop").meta["music"]["swing"] > genre_dance("house").meta["music"]["swing"]
    # their kinetic energies (horizontal and vertical, per joint) differ by more than a sixth of
    # their size (measured: 0.24 hip-hop/ambient, 0.74-3.4 the other pairs)
    energies = {g: kinetic_features(genre_dance(g).joints).reshape(24, 3)[:, :2].ravel() for g in chosen}
    for a in chosen:
        for b in chosen:
            if a < b:
                gap = np.linalg.norm(energies[a] - energies[b])
                assert gap > min(np.linalg.norm(energies[a]), np.linalg.norm(energies[b])) / 6, (a, b)


def test_a_forced_style_is_danced_and_differs_from_the_others():
    dances = {name: genre_dance("house", style=name) for name in STYLES}
    assert all(m.meta["style"] == name and m.meta["style_chosen_by"] == "user" for name, m in dances.items())
    assert all(m.n_frames == round(15.0 * FPS) for m in dances.values())
    joints = [m.joints for m in dances.values()]
    assert min(np.abs(a - b).max() for i, a in enumerate(joints) for b in joints[i + 1:]) > 0.1


def test_seeds_give_different_dances_and_one_seed_the_same():
    a, b = genre_dance("hiphop", 0), genre_dance("hiphop", 1)
    again = ChoreoGenerator().generate(genre_song("hiphop"), 15.0, 0)
    assert np.array_equal(a.poses, again.poses) and np.array_equal(a.trans, again.trans)
    assert np.abs(a.joints - b.joints).max() > 0.1


def test_an_unknown_style_is_an_input_error():
    from a2a_cli.errors import InputError

    with pytest.raises(InputError, match="house"):
        ChoreoGenerator("tango")


def test_travelling_moves_come_in_mirrors_that_go_back():
    travelling = [m for m in MOVES if any(m.travel)]
    assert len(travelling) >= 4
    for m in travelling:
        back = [m.mirrored().travel] + ([] if not m.opposite else [next(o for o in MOVES if o.name == m.opposite).travel])
        assert any(np.dot(m.travel, t) < 0 for t in back), m.name
