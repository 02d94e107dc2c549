"""Morphable models behind one interface; see :mod:`semantify.models.base`."""

from semantify.models.base import Coefficient, MorphableModel, UVMap
from semantify.models.reference import ModelRef
from semantify.models.registry import load_model, model_ids, model_status, spec
from semantify.models.sampling import Distribution

__all__ = ["Coefficient", "Distribution", "ModelRef", "MorphableModel", "UVMap", "load_model",
           "model_ids", "model_status", "spec"]
