"""The parts behind :mod:`semantify.measurements.anthropometer`: plane sections and
per-topology landmarks."""
