"""Help that reads like command-line help. typer 0.29 labels each value with its Python type
(`--version <bool>`, `audio... <list[Path]>`, usage `{audio}...`); `install()` gives the classic
metavars instead: flags show none, a value shows its kind (PATH, TEXT, INTEGER, NUMBER, or its
choices), a repeatable option or argument the kind of one item, and arguments read AUDIO... .
It also folds a word too long for its column onto the next line, where Rich would cut it short
with "…" (a setting's name such as validator.weights_interval_blocks at 80 columns)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["install", "natural_metavar"]

# typer's type labels -> the words command-line help uses.
_KINDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "Path": "PATH", "path": "PATH",
          "file": "FILE", "directory": "FOLDER", "int range": "INTEGER", "float range": "NUMBER"}


def natural_metavar(label: str | None) -> str | None:
    """'<list[Path]>' -> 'PATH', '<int range>' -> 'INTEGER', '<npy|npz>' -> 'npy|npz' (choices keep their spelling)."""
    if label is None:
        return None
    inner = label[1:-1] if label.startswith("<") and label.endswith(">") else label
    while (match := re.fullmatch(r"list\[(.*)\]", inner)) is not None:
        inner = match.group(1)
    return _KINDS.get(inner, inner if "|" in inner else inner.upper())


def install() -> None:
    """Patch typer's help rendering (once, at import of the app): flags without a type, natural
    metavars, long words folded rather than cut."""
    from typer import core, rich_utils

    if getattr(core, "_a2a_help_installed", False):
        return
    typed_label = core._TyperParameter.display_type

    def display_type(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        return natural_metavar(typed_label(self, ctx))

    def argument_name(self: Any) -> str:
        name = self.display_name_raw.upper()
        return name + ("..." if self.metavar is None and self.nargs != 1 else "")

    def usage_name(self: Any) -> str:
        name = self.display_name_raw.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    styled_text = rich_utils._make_rich_text

    def folded_text(**options: Any) -> Any:
        text = styled_text(**options)
        if hasattr(text, "overflow"):  # a rich Text (markdown help would be a Markdown block)
            text.overflow = "fold"
        return text

    core._TyperParameter.display_type = display_type
    rich_utils._make_rich_text = folded_text
    core.TyperArgument._rich_display_name = argument_name
    core.TyperArgument._usage_display_name = usage_name
    core._a2a_help_installed = True
