"""Build a motion library index (a2a_cli/generation/library/index.py) from a folder of real dance.

    python scripts/build_motion_library.py ../shared/reference/real-dance/cmu-salsa -o a2a_cli/generation/library/data/cmu_salsa.npz

Every motion file under the folder (AIST++ .pkl, AMASS .npz, BVH of any skeleton through the
retarget, a2a .npy/.npz with rotations) is resampled to 30 fps, grounded, mirrored (unless
--no-mirror) and cut at its kinematic beats. `--exclude` leaves out file names matching a pattern;
the default leaves out the salsa takes 11 and 12, held back from the judge's realism model and the
shipped library alike (the test set). Prints the clips, minutes, beats, bytes and time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from a2a_cli.fileio import atomic_write
from a2a_cli.generation.library.index import build_library, library_files

# The same held-back takes as scripts/build_realism_model.py's HELD_OUT (both partners of takes 11, 12).
HELD_OUT = ("60_11_*", "61_11_*", "60_12_*", "61_12_*")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a folder of real dance (searched recursively)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the index to write (.npz)")
    parser.add_argument("--exclude", action="append", default=None,
                        help=f"file-name pattern left out (repeatable; default {' '.join(HELD_OUT)})")
    parser.add_argument("--no-mirror", action="store_true", help="do not add each clip mirrored left for right")
    args = parser.parse_args(argv)
    exclude = tuple(args.exclude) if args.exclude is not None else HELD_OUT
    started = time.perf_counter()
    files = library_files(args.folder, exclude)
    if not files:
        print(f"error: no motion files under {args.folder}", file=sys.stderr)
        return 2
    library = build_library(files, mirror=not args.no_mirror, key=f"built by scripts/build_motion_library.py from {args.folder.name}")
    data = library.to_bytes()
    atomic_write(args.output, data)
    print(f"{args.output}: {library.n_clips} clips, {library.duration_s / 60:.1f} min, {library.beats.size} beats, "
          f"{len(data) / 2**20:.2f} MiB in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
