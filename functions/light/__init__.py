"""LightFunction: the light lane's consumer (short, non-critical jobs on Lambda)."""
