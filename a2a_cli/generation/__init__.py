"""Generators: audio in, dance out. `get_generator("choreo")` is the weight-free default."""

from a2a_cli.generation.base import Generator, available_generators, check_duration, get_generator, register

DEFAULT_MODEL = "choreo"


def _choreo() -> Generator:
    from a2a_cli.generation.choreo import ChoreoGenerator

    return ChoreoGenerator()


register("choreo", _choreo)

__all__ = ["DEFAULT_MODEL", "Generator", "available_generators", "check_duration", "get_generator", "register"]
