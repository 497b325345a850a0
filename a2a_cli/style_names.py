"""The dance styles of `choreo`, by name: the one home of that list.

A leaf without numpy, so that the settings (config.py: `generate.style`) and the CLI's help can
offer the names without loading the choreographer; `generation.choreo.styles` defines each style
under these names.
"""

__all__ = ["AUTO", "STYLE_CHOICES", "STYLE_NAMES"]

AUTO = "auto"  # the style is read from the music
STYLE_NAMES = ("hiphop", "house", "flow", "popping")
STYLE_CHOICES = (AUTO, *STYLE_NAMES)  # what `--style` and `generate.style` accept
