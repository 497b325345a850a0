"""AIST++ motion pickles: read with an unpickler that builds only containers, numbers and arrays."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from a2a_cli.errors import InputError
from a2a_cli.motion.aistpp import AISTPP_FPS, motion_from_aistpp, read_aistpp


def aist_doc(n: int = 120, scaling: float = 95.0) -> dict:
    rng = np.random.default_rng(0)
    return {"smpl_loss": np.float64(2.25), "smpl_poses": rng.normal(0, 0.3, (n, 72)),
            "smpl_scaling": np.array([scaling]), "smpl_trans": rng.normal(0, 50, (n, 3))}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_pickled_aistpp_dict_reads_back_exactly(tmp_path, protocol):
    doc = aist_doc()
    path = tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"
    path.write_bytes(pickle.dumps(doc, protocol=protocol))
    back = read_aistpp(path)
    assert set(back) == set(doc) and float(back["smpl_loss"]) == 2.25
    for key in ("smpl_poses", "smpl_trans", "smpl_scaling"):
        np.testing.assert_array_equal(back[key], doc[key])
    motion = motion_from_aistpp(back)
    assert motion.fps == AISTPP_FPS and motion.poses.shape == (120, 24, 3)
    np.testing.assert_allclose(motion.trans, doc["smpl_trans"] / 95.0, rtol=1e-6)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"smpl_poses": _RunsCode()}, protocol=2))
    with pytest.raises(InputError, match=r"evil\.pkl refused: its pickle names (posix|os)\.system"):
        read_aistpp(path)
    assert not (tmp_path / "PWNED").exists()


def test_object_arrays_and_wrong_shapes_are_refused(tmp_path):
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps({**aist_doc(), "smpl_trans": np.zeros((120, 3), dtype=object)}))
    with pytest.raises(InputError):  # an object array's items are pickled objects: refused one way or the other
        read_aistpp(path)
    path.write_bytes(pickle.dumps({**aist_doc(), "smpl_poses": np.zeros((120, 69))}))
    with pytest.raises(InputError, match=r"smpl_poses must be a \(T, 72\) array"):
        read_aistpp(path)
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(InputError, match="not an AIST\\+\\+ motion pickle"):
        read_aistpp(path)
