"""Sentence-embedding backends for cross-lingual similarity."""
