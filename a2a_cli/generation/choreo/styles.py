"""Dance styles, and which one the music asks for.

A style is how the choreographer dances whatever move it picks: which move families lead its
sections, the footwork laid under moves that have none of their own (so the legs always carry the
groove), how deep the knees bounce, how far steps reach, how sharp each hit is (the ease order: a
high order holds still around the beat and snaps in between, a low one flows), and how often the
dancer travels. `choose_style` reads a `MusicCharacter` (tempo, energy and its dynamics,
percussiveness, brightness, major/minor, swing) and picks the style whose music it sounds most like.
"""

from __future__ import annotations

from dataclasses import dataclass

from a2a_cli.errors import InputError
from a2a_cli.generation.choreo.moves import Step
from a2a_cli.generation.choreo.moves import home_step as _home
from a2a_cli.generation.choreo.music import MusicCharacter
# AUTO re-exported: choreo.styles.AUTO; style_names.py lists the names of STYLES (STYLE_NAMES)
from a2a_cli.style_names import AUTO, DANCE_STYLES

__all__ = ["AUTO", "STYLES", "Style", "choose_style", "style_fit", "style_named"]


@dataclass(frozen=True)
class Style:
    """How one family of dance moves the body.

    `families`: weight of each move family as a section's lead; `footings`: 4-beat foot patterns
    (one picked per bar, mirrored at random) for moves without steps of their own; `bounce`: scale
    of every move's knee bounce; `reach`: scale of step distances; `sharpness`: the ease order of
    the body between beats (higher: sharper hits); `travel`: how much more often than the rest travelling
    moves are picked; `turns`: the same for turning moves (never two in a row); `arms`: scale of
    the arms' and torso's key offsets.
    """

    name: str
    summary: str
    families: dict
    footings: tuple[tuple[Step | None, ...], ...]
    bounce: float = 1.0
    reach: float = 1.0
    sharpness: float = 6.0
    travel: float = 1.0
    turns: float = 1.0
    arms: float = 1.0


STYLES: dict[str, Style] = {s.name: s for s in (
    Style(
        "hiphop", "bouncy grooves over heavy, half-time beats: deep knees, step-touches, rocks",
        {"groove": 3.0, "footwork": 2.0, "arms": 1.0, "power": 0.7},
        (
            (_home("r", -0.16), None, _home("r"), None),  # step out, bounce, close, bounce
            (_home("r", -0.14), _home("l", -0.14), None, _home("r")),  # side-together, travelling a little
            (_home("r", 0.0, -0.18), None, _home("r"), _home("l", 0.02, 0.12, up=0.02)),  # rock back, tap
        ),
        bounce=1.05, reach=1.15, sharpness=4.0, travel=1.5, turns=0.5, arms=0.5,
    ),
    Style(
        "house", "house footwork for steady four-on-the-floor: shuffles, side steps, heel-toe, travel",
        {"groove": 1.0, "footwork": 4.0, "arms": 0.7, "power": 1.5},
        (
            (_home("r", -0.22), _home("l", -0.22), _home("r", -0.22, 0.0, up=0.03), _home("r")),  # side shuffle
            (_home("r", 0.02, 0.22, up=0.03), _home("r"), _home("l", -0.02, 0.22, up=0.03), _home("l")),  # heel-toe
            (_home("r", 0.08, 0.14), _home("r"), _home("l", -0.08, 0.14), _home("l")),  # cross in front
        ),
        bounce=0.75, reach=1.25, sharpness=4.0, travel=2.0, turns=0.6, arms=0.6,
    ),
    Style(
        "flow", "flowing and turning for slow or soft music: long steps, arcs, turns that step around",
        {"groove": 2.0, "footwork": 2.5, "arms": 2.0, "power": 0.5},
        (
            (_home("r", -0.05, 0.25), None, _home("r"), None),  # long step forward and back
            (_home("l", 0.25), None, _home("r", 0.25), None),  # side step, together: travels
            (_home("r", -0.06, -0.22), None, _home("r"), None),  # step back and return
        ),
        bounce=0.6, reach=1.35, sharpness=3.0, travel=2.5, turns=0.8, arms=0.6,
    ),
    Style(
        "popping", "sharp hits for staccato electronic music: accents, wide stances, freezes",
        {"groove": 2.0, "footwork": 2.0, "arms": 1.5, "power": 1.5},
        (
            (_home("r", -0.18), None, _home("l", 0.06), _home("r")),  # hit out wide, hold, shift, close
            (None, _home("l", 0.16), _home("r", -0.05), _home("l")),
            (_home("r", 0.0, 0.16, up=0.03), _home("r"), None, None),  # toe hit
        ),
        bounce=0.75, reach=1.1, sharpness=5.0, travel=1.2, turns=0.4, arms=0.6,
    ),
)}


def style_fit(character: MusicCharacter) -> dict[str, float]:
    """How well the music fits each dance style (style_names.DANCE_STYLES: choreo's and those only
    real motion has), higher is better, to 3 decimals: the one reading of the music both choreo and
    a motion library with several styles choose by."""
    return {k: round(float(v), 3) for k, v in _fit(character).items()}


def _fit(c: MusicCharacter) -> dict[str, float]:
    tempo = c.tempo_bpm
    felt = tempo / 2 if tempo > 135 else tempo  # fast beats are felt (and danced) in half time
    slow = 1.0 if 0 < felt < 85 else (0.0 if felt > 100 or felt == 0 else (100 - felt) / 15)
    house_tempo = max(0.0, 1.0 - abs(tempo - 124) / 12)
    hiphop_tempo = max(0.0, 1.0 - abs(felt - 95) / 20) if felt else 0.0
    # salsa is fast (150-220 BPM, danced on every other beat); a slow reading half counts
    salsa_tempo = max(0.0, 1.0 - abs(felt - 92) / 20) * (1.0 if tempo > 135 else 0.5) if felt else 0.0
    soft = 1.0 - max(c.energy, c.percussiveness)
    staccato = max(0.0, (c.percussiveness - 0.8) / 0.2)  # only the densest, sharpest struck music pops
    return {
        "hiphop": 0.9 * hiphop_tempo + 0.5 * c.swing + 0.4 * (1 - c.brightness) + 0.3 * (1 - c.major) + 0.3 * c.energy,
        "house": 1.4 * house_tempo + 0.5 * c.steadiness + 0.3 * c.percussiveness + 0.2 * c.major - 0.5 * c.swing
        - 0.3 * c.dynamics,
        "flow": 1.0 * slow + 1.5 * soft + 0.3 * c.major - 0.5 * c.percussiveness + 0.3 * c.dynamics,
        "popping": 1.5 * c.brightness * staccato + 0.5 * c.energy + 0.2 * (1 - c.major) - 0.6 * c.swing,
        "salsa": 1.0 * salsa_tempo + 0.4 * c.percussiveness + 0.4 * c.brightness + 0.3 * c.energy - 0.5 * c.swing,
    }


def choose_style(character: MusicCharacter) -> tuple[Style, dict[str, float]]:
    """The style of choreo's the music sounds most like, and each of its styles' fit (higher is better)."""
    fit = _fit(character)
    best = max(STYLES, key=fit.get)
    return STYLES[best], {name: round(float(fit[name]), 3) for name in STYLES}


def style_named(name: str) -> Style | None:
    """The style called `name`, None for "auto"; a clear error for anything else."""
    if name == AUTO:
        return None
    try:
        return STYLES[name]
    except KeyError:
        if name in DANCE_STYLES:
            raise InputError(f"choreo does not dance {name} (a style of real motion); choose {AUTO} or one of: "
                             f"{', '.join(STYLES)}, or --model library for {name}") from None
        raise InputError(f"unknown style {name!r}; choose {AUTO} or one of: {', '.join(STYLES)}") from None
