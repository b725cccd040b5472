"""The `pretty` format on a terminal, through rich:

    ∇M f = 4 (M Mᵀ − I) M
           M: n×m

the label in colour, the result in bold, each `where` definition on a line of its
own under the result, then the inferred shapes (dim), then the numeric verdict.
A result longer than the terminal is broken before `+`/`−` (printers.pretty.wrap),
never folded inside a symbol.  Expressions go out as rich Text, never as markup
(`C[n:, n:]` must survive); with `color` False not one ANSI code is written.
"""
from __future__ import annotations

from typing import IO, Any

from .pretty import pretty_name, wrap


def label(r: Any) -> str:
    """What the result is: `∇M f`, `dF`, `DF(M)[A]`, `∂F/∂X_ij`, `∂vec F/∂vec(X)ᵀ`, `∇²x f`."""
    x = pretty_name(r.wrt)
    v = pretty_name(r.direction.name) if r.direction is not None else ""
    if r.command == "grad":
        return f"∇{x} f"
    if r.command == "dir":
        return "dF" if v == "d" + x else f"DF({x})[{v}]"
    if r.command == "elem":
        return f"∂F/∂{x}_ij"
    if r.command == "jac":
        return f"∂vec F/∂vec({x})ᵀ"
    if r.command == "hess":
        return f"∇²{x} f" + (f"[{v}]" if v else "")
    return r.command


def show_results(results: list, stream: IO[str], color: bool, width: int | None = None) -> None:
    """Print results for a person: `color` is the decision already taken (--color,
    NO_COLOR, FORCE_COLOR, TERM, tty); `width` defaults to the terminal's."""
    from rich.console import Console
    from rich.text import Text
    console = Console(file=stream, force_terminal=color, color_system="standard" if color else None,
                      no_color=not color, highlight=False, markup=False, emoji=False, soft_wrap=True,
                      width=width)
    cols = max(console.width, 40)

    def emit(parts: list[tuple[str, str]]) -> None:
        line = Text()
        for text, style in parts:
            line.append(text, style=style if color else "")
        console.print(line, soft_wrap=True)

    for n, r in enumerate(results):
        if n:
            console.print()
        for step in r.steps_in("pretty"):
            for k, piece in enumerate(wrap(step, cols, 2)):
                emit([("  " if k == 0 else "  ", ""), (piece, "")])
        head = label(r) + " = "
        pad = " " * len(head)
        for k, piece in enumerate(wrap(_main(r), cols, len(head))):
            emit([(head, "bold cyan"), (piece, "bold")] if k == 0 else [(pad + piece, "bold")])
        for name, d in r.definitions:
            from .pretty import PrettyPrinter
            lead = f"where {name} = "
            for k, piece in enumerate(wrap(PrettyPrinter()(d), cols, len(pad) + len(lead))):
                emit([(pad, ""), (lead, "cyan"), (piece, "")] if k == 0 else
                     [(pad + " " * len(lead) + piece, "")])
        index = getattr(r, "index", None)
        if index is not None:   # elem --index: the entry of the 4-D tensor
            lhs = index.lhs("pretty") + " = " if hasattr(index, "lhs") else "entry: "
            body = index.pretty() if hasattr(index, "pretty") else str(index)
            for k, piece in enumerate(wrap(body, cols, len(pad) + len(lhs))):
                emit([(pad, ""), (lhs, "cyan"), (piece, "")] if k == 0 else [(pad + " " * len(lhs) + piece, "")])
        for k, piece in enumerate(_shape_lines(r, cols, len(pad))):
            emit([(pad + piece, "dim")])
        if r.check is not None:
            ok = r.check.passed
            verdict = "✓ verified numerically" if ok else "✗ numeric check FAILED"
            emit([(pad, ""), (f"{verdict}: relative error {r.check.error:.1e}", "green" if ok else "bold red")])


def _main(r: Any) -> str:
    from .pretty import PrettyPrinter
    return PrettyPrinter()(r.expr)


def _shape_lines(r: Any, width: int, indent: int) -> list[str]:
    """The shapes, `M: n×m, x: n×1`, filled into lines of the available width."""
    items = [f"{pretty_name(name)}: {_show(s)}" for name, s in
             ((s.name, s.shape) for s in r.symbols + ([r.direction] if r.direction is not None else []))]
    lines, cur = [], ""
    for item in items:
        if cur and indent + len(cur) + 2 + len(item) > width:
            lines.append(cur + ",")
            cur = item
        else:
            cur = f"{cur}, {item}" if cur else item
    if cur:
        lines.append(cur)
    return lines


def _show(shape: Any) -> str:
    from ..shapes import show
    return show(shape)
