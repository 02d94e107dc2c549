"""The parts behind :mod:`semantify.measure`: plane sections and per-topology landmarks."""
