"""Generators: audio in, dance out. `library` (the default, DEFAULT_MODEL) joins real human motion
from a motion library; `choreo` is the zero-data choreographer; both weight-free. `edge` is EDGE's
diffusion model (torch and weights needed). Gesture (speech in, a speaker's gestures out): `orator`,
weight-free; `dsg`, DiffuseStyleGesture's diffusion model (torch, transformers and weights)."""

from a2a_cli.config import KEYS
from a2a_cli.generation.base import Generator, available_generators, check_duration, get_generator, register
from a2a_cli.tasks import GESTURE

DEFAULT_MODEL = KEYS["generate.model"].default  # the dance model of `a2a generate` and `a2a mine` (its one home: config.py)


def _choreo() -> Generator:
    from a2a_cli.generation.choreo import ChoreoGenerator

    return ChoreoGenerator()


def _edge(settings) -> Generator:
    from a2a_cli.generation.edge.pipeline import edge_from_settings

    return edge_from_settings(settings)


def _library(settings) -> Generator:
    from a2a_cli.generation.library import library_from_settings

    return library_from_settings(settings)


def _orator():
    from a2a_cli.generation.gesture import OratorGenerator

    return OratorGenerator()


def _dsg(settings):
    from a2a_cli.generation.dsg.pipeline import dsg_from_settings

    return dsg_from_settings(settings)


register("choreo", _choreo)
register("orator", _orator, task=GESTURE)
register("dsg", _dsg, takes_settings=True, task=GESTURE)
register("library", _library, takes_settings=True)
register("edge", _edge, takes_settings=True)

__all__ = ["DEFAULT_MODEL", "Generator", "available_generators", "check_duration", "get_generator", "register"]
