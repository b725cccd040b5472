"""Linearise, then transpose: the differential is computed forward (differential.py);
the gradient is its adjoint under <G, dX> = tr(Gᵀ dX) (adjoint.py); derivatives.py
turns both into the commands' results."""
