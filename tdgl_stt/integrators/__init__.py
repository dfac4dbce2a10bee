"""Time integrators. ``exact``: the per-mode exact propagator for uniform coefficients."""
