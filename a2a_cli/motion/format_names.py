"""The motion file formats a2a knows, by name: the one home of that list.

A leaf without numpy, so that the settings (config.py: `generate.formats`) and the CLI (which files
a folder is searched for) can offer the list without loading the motion code; `motion.formats`
reads and writes them.
"""

__all__ = ["FORMATS", "READ_ONLY_FORMATS"]

FORMATS = ("npy", "npz", "bvh")  # what a2a reads and writes
READ_ONLY_FORMATS = ("pkl",)  # AIST++ motion pickles (motion/aistpp.py): read through a restricted unpickler
