"""Planners' simulator: the routing core in SimPy virtual time (simulator issue)."""
