"""Text utilities shared by readers, checks and signals: sentence and paragraph segmentation
(``segment``), sentence alignment (``align``), tokens with character offsets (``tokens``) and
language identification (``langid``). Import the submodule you need; this package imports nothing.
"""
