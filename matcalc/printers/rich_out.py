"""The `pretty` format on a terminal: rich, Unicode, the shapes under the result.
Expressions go out as rich Text (never markup: `C[n:, n:]` must survive)."""
from __future__ import annotations

LABELS = {"grad": "∇{x}", "dir": "D[{v}]", "elem": "∂/∂{x}ᵢⱼ", "jac": "J{x}", "hess": "H{x}"}


def show_results(results, stream, color: bool):
    from rich.console import Console
    from rich.text import Text
    console = Console(file=stream, force_terminal=color, no_color=not color, highlight=False,
                      soft_wrap=False, emoji=False)
    for r in results:
        label = LABELS.get(r.command, r.command).format(x=r.wrt, v=r.direction.name if r.direction else "")
        line = Text()
        line.append(label, style="bold cyan")
        line.append("  ")
        line.append(r.pretty(), style="bold")
        console.print(line)
        console.print(Text("   " + r.shapes_text(), style="dim"))
        if r.check is not None:
            verdict = "verified" if r.check.passed else "FAILED"
            console.print(Text(f"   {verdict} numerically: relative error {r.check.error:.1e}",
                               style="green" if r.check.passed else "red"))
