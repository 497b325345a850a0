"""The styles of the generators, by name: the one home of those lists.

A leaf without numpy, so that the settings (config.py: `generate.style`) and the CLI's help can
offer the names without loading a generator. `generation.choreo.styles` defines each of choreo's
dance styles (STYLE_NAMES) under these names, `generation.gesture.styles` each gesture style
(GESTURE_STYLES). The `library` generator dances real motion, whose style is that of the capture:
DANCE_STYLES adds the styles only real motion has (REAL_MOTION_STYLES), and AISTPP_GENRE_STYLES
names the style of each AIST++ genre (its file names start with the genre's code: gBR_sBM_...).
DiffuseStyleGesture (`dsg`) was trained on the six moods of DSG_STYLES.
"""

__all__ = [
    "AISTPP_GENRE_STYLES", "AUTO", "DANCE_STYLES", "DSG_STYLES", "GESTURE_STYLES", "GESTURE_STYLE_CHOICES",
    "REAL_MOTION_STYLES", "STYLE_CHOICES", "STYLE_NAMES",
]

AUTO = "auto"  # the style is read from the audio: the music's character, the voice's animation
STYLE_NAMES = ("hiphop", "house", "flow", "popping")  # choreo's styles
REAL_MOTION_STYLES = ("salsa",)  # styles a motion library may hold that choreo does not dance
DANCE_STYLES = (*STYLE_NAMES, *REAL_MOTION_STYLES)
STYLE_CHOICES = (AUTO, *DANCE_STYLES)  # what `--style` and `generate.style` accept for a dance
GESTURE_STYLES = ("calm", "conversational", "animated")
GESTURE_STYLE_CHOICES = (AUTO, *GESTURE_STYLES)  # what `--style` accepts for gesture
# AIST++'s ten genres as a2a's dance styles: break, krump and both hip-hops are hip-hop; pop, lock
# and waack, dances of sharp hits and holds, are popping; street and ballet jazz flow.
AISTPP_GENRE_STYLES = {
    "gBR": "hiphop", "gKR": "hiphop", "gLH": "hiphop", "gMH": "hiphop", "gHO": "house",
    "gPO": "popping", "gLO": "popping", "gWA": "popping", "gJS": "flow", "gJB": "flow",
}

# DiffuseStyleGesture's styles (the ZEGGS takes' moods), in the order of its one-hot (sample.py's style2onehot)
DSG_STYLES = ("happy", "sad", "neutral", "old", "angry", "relaxed")
