"""An entry point's command template made into a process's arguments; parameter values stay inert.

``python train.py --alpha {alpha}`` is split into words like a shell would, and each ``{name}`` is then
replaced inside its word, so a value is always exactly one argument and no shell ever reads it:
``x; touch pwned`` and ``$(id)`` reach the program as those characters. A template that itself uses
shell syntax (``&&``, pipes, redirections, ``$VAR``, globs, ``VAR=value cmd``) runs under
``bash -c``, with every value passed as a positional argument and referenced as ``"${N}"``, which the
shell substitutes without reading it as code.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from string import Formatter

from pack.errors import InvalidInput

_UNQUOTED_SPECIAL = set("|&;<>()$`*?[]~#!\n")
_ASSIGNMENT = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*=")
_MARK = re.compile("\ue000([0-9]+)\ue001")


@dataclass(frozen=True)
class Command:
    """What to execute: ``argv`` is run directly (``shell`` tells whether it is ``bash -c SCRIPT ...``)."""

    argv: tuple[str, ...]
    shell: bool
    display: str
    """The command as a person would type it (values shell-quoted), for logs."""


def render(
    template: str, values: Mapping[str, str], extras: Mapping[str, str] | None = None, *, shell: str = "bash"
) -> Command:
    """The command for ``template`` with ``values`` substituted and ``extras`` appended as ``--key value``.

    Raises:
        InvalidInput: the template is malformed or names an undeclared parameter.
    """
    pieces = _parse(template, values)
    literal = "".join(text for text, _ in pieces)
    appended = [arg for key, value in (extras or {}).items() for arg in (f"--{key}", value)]
    display = " ".join(
        ["".join(text + (shlex.quote(values[name]) if name else "") for text, name in pieces)]
        + [shlex.quote(arg) for arg in appended]
    )
    if _needs_shell(literal):
        args: list[str] = []
        script = _shell_script(pieces, values, args)
        for arg in appended:
            args.append(arg)
            script += f' "${{{len(args)}}}"'
        return Command((shell, "-c", script, "pack-run", *args), True, display)
    marked = "".join(text + (f"\ue000{index}\ue001" if name else "") for index, (text, name) in enumerate(pieces))
    try:
        words = shlex.split(marked)
    except ValueError as exc:
        raise InvalidInput(f"command {template!r}: {exc}") from None
    if not words:
        raise InvalidInput("the entry point's command is empty")
    argv = [_MARK.sub(lambda m: values[pieces[int(m.group(1))][1]], word) for word in words]
    return Command((*argv, *appended), False, display)


def _parse(template: str, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """``[(literal text, parameter name or "")]`` of a ``str.format`` template."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(f"command {template!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
    pieces: list[tuple[str, str]] = []
    for text, name, spec, conversion in parsed:
        if name is None:
            pieces.append((text, ""))
            continue
        if spec or conversion:
            raise InvalidInput(f"command {template!r}: use plain {{{name}}} placeholders (no format specs)")
        if name not in values:
            raise InvalidInput(f"command {template!r} uses {{{name}}}, which is not a parameter of this entry point")
        pieces.append((text, name))
    return pieces


def _needs_shell(literal: str) -> bool:
    """Whether the template's own text (placeholders removed) uses anything only a shell understands."""
    if _ASSIGNMENT.match(literal):
        return True
    quote = ""
    escaped = False
    for char in literal:
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
            elif quote == '"' and char in "$`":
                return True
        elif char in "'\"":
            quote = char
        elif char in _UNQUOTED_SPECIAL:
            return True
    return False


def _shell_script(pieces: list[tuple[str, str]], values: Mapping[str, str], args: list[str]) -> str:
    """The template as a script whose placeholders read positional arguments (appended to ``args``)."""
    script = ""
    quote = ""
    escaped = False
    for text, name in pieces:
        for char in text:
            if escaped:
                escaped = False
            elif char == "\\" and quote != "'":
                escaped = True
            elif quote and char == quote:
                quote = ""
            elif not quote and char in "'\"":
                quote = char
        script += text
        if name:
            args.append(values[name])
            ref = f"${{{len(args)}}}"
            script += {"": f'"{ref}"', '"': ref, "'": f"'\"{ref}\"'"}[quote]
    return script


__all__ = ["Command", "render"]
