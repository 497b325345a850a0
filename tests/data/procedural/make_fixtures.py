import numpy as np, json, subprocess
from a2a_cli.examples import synth_song
from a2a_cli.audio.analysis import analyze
from a2a_cli.generation.choreo import ChoreoGenerator
from a2a_cli.motion.formats import save_motion
from a2a_cli.generation.choreo.styles import STYLES
commit = subprocess.check_output(["git","rev-parse","HEAD"],text=True).strip()
songs = [(84, 1), (100, 2), (122, 3), (140, 4), (172, 5)]
for bpm, seed in songs:
    y = synth_song(bpm, 12.0, seed=seed, offset_s=0.1*seed)
    a = analyze(y, 22050)
    for style in STYLES:
        m = ChoreoGenerator(style).generate(a, 12.0, seed)
        m.meta = {"generator": "choreo", "commit": commit, "style": style, "song": f"synth_song({bpm}, 12.0, seed={seed}, offset_s={0.1*seed:.1f})", "seed": seed}
        save_motion(m, f"tests/data/procedural/choreo_{style}_{bpm}bpm.npz")
print("ok")
