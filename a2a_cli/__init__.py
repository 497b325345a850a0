"""a2a: Audio-to-Animation. Music in, 3-D dance motion out, and a fair, fast judge of that motion."""

__version__ = "0.1.0"
