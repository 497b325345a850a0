"""a2a's frame rate, the one home of that fact: 30 frames per second.

Every dance a2a makes is at this rate, its audio features are computed at it (one hop of
`audio.decoding.HOP` samples per frame), the subnet's prompts and answers are at it (protocol
a2a/2), and previews play one video frame per motion frame. Rates that the literature fixes
(Bailando's `scoring.beats.REFERENCE_FPS`, EDGE's `scoring.pfc.EDGE_FPS`) and the judge's time base
(`scoring.constants.JUDGE_FPS`) are facts of their own and stay with the code that cites them.

It is an int so that what is built from it stays exact: the feature sample rate (`FPS * HOP` Hz)
and the protocol's `Literal[FPS]` field. Dividing by it gives floats as usual.
"""

__all__ = ["FPS"]

FPS = 30
