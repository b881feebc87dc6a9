"""Tensor methods grouped by op family, mixed into ``Tensor`` (keeps tensor.py small)."""
