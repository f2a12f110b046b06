"""Choosing the shipped model: ensemble selection, refit, and the model objects."""

from automl.final._ensemble import WeightedEnsemble
from automl.final._finalize import finalize
from automl.final._full_refit import full_refit_applies
from automl.final._refit import fit_final, representative_rows

__all__ = ["WeightedEnsemble", "finalize", "fit_final", "full_refit_applies", "representative_rows"]
