"""a2a's frame rate has one home (a2a_cli.frame_rate.FPS); every module that needs it imports it.

The scan reads the source: an assignment of the number 30 to a name ending in FPS, anywhere in the
package but the home, is a second definition of the fact. The literature's rates and the judge's
time base are facts of their own (frame_rate's docstring) and are the only ones allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import a2a_cli
from a2a_cli.frame_rate import FPS

PACKAGE_DIR = Path(a2a_cli.__file__).parent
HOME = PACKAGE_DIR / "frame_rate.py"
# Bailando's beat-alignment rate, EDGE's PFC rate, the judge's time base: cited facts, not a2a's choice.
OWN_FACTS = {("scoring/beats.py", "REFERENCE_FPS"), ("scoring/pfc.py", "EDGE_FPS"), ("scoring/constants.py", "JUDGE_FPS")}


def _thirty_fps_definitions() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path == HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            value = getattr(node, "value", None)
            if isinstance(value, ast.Constant) and value.value == 30 and not isinstance(value.value, bool):
                for target in targets:
                    if isinstance(target, ast.Name) and target.id.upper().endswith("FPS"):
                        found.append((path.relative_to(PACKAGE_DIR).as_posix(), target.id))
    return found


def test_thirty_fps_is_defined_once():
    assert FPS == 30
    assert set(_thirty_fps_definitions()) <= OWN_FACTS, "define a2a's frame rate only in a2a_cli/frame_rate.py"


def test_every_user_of_the_rate_has_the_same_one():
    from a2a_cli import audio, render
    from a2a_cli.chain import protocol
    from a2a_cli.generation.choreo import music
    from a2a_cli.generation.base import expected_frames
    from a2a_cli.motion import DEFAULT_FPS, Motion

    assert audio.FPS == protocol.FPS == music.FPS == DEFAULT_FPS == render.VIDEO_FPS == FPS
    assert audio.FEATURE_SR == FPS * audio.HOP == 15360 and isinstance(audio.FEATURE_SR, int)
    assert expected_frames(2.0) == 60
    assert Motion(poses=None, trans=[[0.0, 0.0, 0.0]], _joints=[[[0.0] * 3] * 24]).fps == 30.0
    assert protocol.GenerateRequest.model_json_schema()["properties"]["fps"]["const"] == 30
