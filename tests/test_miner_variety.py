"""Per-miner realism in the validator (chain/state.py, realism.RealismModel.diversity): a miner whose
every answer is the same kind of dance is seen as such, and its weight shows it."""

from __future__ import annotations

import numpy as np
import pytest

from a2a_cli.chain.chain import Metagraph, Neuron
from a2a_cli.chain.state import MIN_STYLES, RECENT_STYLES, VARIETY_FLOOR, ValidatorState
from a2a_cli.errors import WorkError
from a2a_cli.motion.formats import load_motion
from a2a_cli.scoring.motion_traits import window_traits
from a2a_cli.scoring.realism import shipped_model
from support.dances import REAL_TAKES, real_take
from tests.test_realism import PROCEDURAL


def styles_of_real_clips() -> list[np.ndarray]:
    """Styles of 6-s pieces of the two held-back real salsa takes (dances the model never saw)."""
    model, out = shipped_model(), []
    for take in REAL_TAKES:
        joints = real_take(take).joints
        out += [model.style_vector(window_traits(joints[s : s + 180])) for s in range(0, len(joints) - 179, 180)]
    return out


def test_one_dance_for_every_song_has_no_variety_and_real_dancers_have_plenty():
    model = shipped_model()
    same = model.style_vector(window_traits(load_motion(PROCEDURAL[0]).joints))
    assert model.diversity([same] * 6) == 0.0
    assert model.diversity(styles_of_real_clips()) >= 0.6


def test_procedural_dances_across_songs_are_as_varied_as_people_the_realism_model_judges_them_instead():
    """Variety only sees sameness: `choreo` over five songs and four styles varies as much as people."""
    model = shipped_model()
    styles = [model.style_vector(window_traits(load_motion(p).joints)) for p in PROCEDURAL]
    assert model.diversity(styles) >= 0.9


def _metagraph(*hotkeys: str) -> Metagraph:
    return Metagraph(netuid=1, block=1, neurons=tuple(Neuron(uid=i, hotkey=h, coldkey="c", stake=0.0, validator_permit=False)
                                                      for i, h in enumerate(hotkeys)))


def test_a_miner_that_always_sends_the_same_kind_of_dance_loses_half_its_weight():
    state = ValidatorState(network="sim", netuid=1, hotkey="v")
    real = styles_of_real_clips()
    same = real[0]
    for step in range(RECENT_STYLES + 3):
        state.record_score(0, "varied", 0.9, 0.5, style=real[step % len(real)])
        state.record_score(1, "monotonous", 0.9, 0.5, style=same)
        state.record_score(2, "new", 0.9, 0.5, style=same if step < MIN_STYLES - 1 else None)
    uids, weights = state.weights(_metagraph("varied", "monotonous", "new"), {"dance": 1.0})
    ema = state.tasks["dance"]["varied"].ema
    assert state.tasks["dance"]["monotonous"].ema == pytest.approx(ema)
    assert len(state.tasks["dance"]["monotonous"].recent_styles) == RECENT_STYLES
    assert sum(weights) == pytest.approx(1.0)  # the dance pool, split by average times variety (all three averages equal)
    assert weights[0] >= 0.8 * weights[2]
    assert weights[1] == pytest.approx(VARIETY_FLOOR * weights[2])
    assert weights[2] == max(weights)  # too few styles to judge: no factor


def test_styles_survive_a_restart_and_a_tampered_file_is_refused(tmp_path):
    state = ValidatorState(network="sim", netuid=1, hotkey="v")
    state.record_score(0, "a", 0.5, 0.5, style=[0.375] * 20)
    path = state.save(tmp_path / "state.json")
    again = ValidatorState.load(path, network="sim", netuid=1, hotkey="v")
    assert again.tasks["dance"]["a"].recent_styles == [[0.375] * 20]
    path.write_text(path.read_text().replace("0.375", "NaN", 1))
    with pytest.raises(WorkError, match="recent styles"):
        ValidatorState.load(path, network="sim", netuid=1, hotkey="v")
