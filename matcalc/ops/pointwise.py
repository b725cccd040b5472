"""Elementwise functions: f(X) applied entry by entry, so d f(X) = f'(X) ⊙ dX.
Each entry names f' in terms of the language itself (sign and step are in the
language for that reason: they are the derivatives of abs and relu)."""
from __future__ import annotations

from ..expr import Num, make, ones
from . import elementwise


def _one_minus(y):
    return make("add", ones(y.shape), make("mul", Num(-1), y))


elementwise("exp", lambda x: make("exp", x))
elementwise("log", lambda x: make("pow", x, Num(-1)), domain=("positive",))
elementwise("sin", lambda x: make("cos", x))
elementwise("cos", lambda x: make("mul", Num(-1), make("sin", x)))
elementwise("tanh", lambda x: _one_minus(make("pow", make("tanh", x), Num(2))))
elementwise("sqrt", lambda x: make("mul", Num("1/2"), make("pow", make("sqrt", x), Num(-1))),
            domain=("positive",), latex=r"\sqrt{{{0}}}", pretty="√({0})")
elementwise("abs", lambda x: make("sign", x), domain=("nonzero",), latex=r"\left|{0}\right|", pretty="|{0}|")
elementwise("sigmoid", lambda x: make("mul", make("sigmoid", x), _one_minus(make("sigmoid", x))),
            numpy="(1 / (1 + np.exp(-({0}))))", latex=r"\sigma\left({0}\right)", pretty="σ({0})")
elementwise("relu", lambda x: make("step", x), numpy="np.maximum({0}, 0)", domain=("nonzero",),
            latex=r"\operatorname{{relu}}\left({0}\right)")
elementwise("sign", lambda x: make("mul", Num(0), x), domain=("nonzero",),
            latex=r"\operatorname{{sign}}\left({0}\right)")
elementwise("step", lambda x: make("mul", Num(0), x), numpy="np.heaviside({0}, 0.5)", domain=("nonzero",),
            latex=r"\operatorname{{step}}\left({0}\right)")
