"""`a2a train`: EDGE trained on a2a's baseline audio features (datasets, objective, the accelerate loop).

Imports torch; generation never imports this package (DESIGN §2).
"""
