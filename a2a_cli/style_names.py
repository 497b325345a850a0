"""The styles of the generators, by name: the one home of those lists.

A leaf without numpy, so that the settings (config.py: `generate.style`) and the CLI's help can
offer the names without loading a generator. `generation.choreo.styles` defines each dance style
(STYLE_NAMES) under these names, `generation.gesture.styles` each gesture style (GESTURE_STYLES);
DiffuseStyleGesture (`dsg`) was trained on the six moods of DSG_STYLES.
"""

__all__ = ["AUTO", "DSG_STYLES", "GESTURE_STYLES", "GESTURE_STYLE_CHOICES", "STYLE_CHOICES", "STYLE_NAMES"]

AUTO = "auto"  # the style is read from the audio: the music's character, the voice's animation
STYLE_NAMES = ("hiphop", "house", "flow", "popping")
STYLE_CHOICES = (AUTO, *STYLE_NAMES)  # what `--style` and `generate.style` accept for a dance
GESTURE_STYLES = ("calm", "conversational", "animated")
GESTURE_STYLE_CHOICES = (AUTO, *GESTURE_STYLES)  # what `--style` accepts for gesture
# DiffuseStyleGesture's styles (the ZEGGS takes' moods), in the order of its one-hot (sample.py's style2onehot)
DSG_STYLES = ("happy", "sad", "neutral", "old", "angry", "relaxed")
