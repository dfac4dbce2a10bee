"""Analysis of run outputs: complex-frequency extraction (:mod:`.extraction`)."""

from .extraction import Extraction, Mode, crb_damped_exponentials, extract_modes, extract_modes_batch

__all__ = ["Extraction", "Mode", "crb_damped_exponentials", "extract_modes", "extract_modes_batch"]
