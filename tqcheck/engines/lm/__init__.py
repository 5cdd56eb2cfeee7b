"""Language-model backends: per-token log-probabilities of a text (fluency)."""
