"""The styles of the weight-free generators, by name: the one home of those lists.

A leaf without numpy, so that the settings (config.py: `generate.style`) and the CLI's help can
offer the names without loading a generator. `generation.choreo.styles` defines each dance style
(STYLE_NAMES) under these names, `generation.gesture.styles` each gesture style (GESTURE_STYLES).
"""

__all__ = ["AUTO", "GESTURE_STYLES", "GESTURE_STYLE_CHOICES", "STYLE_CHOICES", "STYLE_NAMES"]

AUTO = "auto"  # the style is read from the audio: the music's character, the voice's animation
STYLE_NAMES = ("hiphop", "house", "flow", "popping")
STYLE_CHOICES = (AUTO, *STYLE_NAMES)  # what `--style` and `generate.style` accept for a dance
GESTURE_STYLES = ("calm", "conversational", "animated")
GESTURE_STYLE_CHOICES = (AUTO, *GESTURE_STYLES)  # what `--style` accepts for gesture
