"""Translation and forced-decoding scores with a CTranslate2 conversion of a transformers model
(several times faster than transformers on CPU, int8 quantisation available).

Optional: ``pip install 'tqcheck[ct2]'``. Convert a model once with
``ct2-transformers-converter --model Helsinki-NLP/opus-mt-fr-en --output_dir opus-mt-fr-en-ct2
--copy_files source.spm target.spm vocab.json tokenizer_config.json`` (or point ``tokenizer`` at
the original model), then use the spec ``ct2:/path/to/opus-mt-fr-en-ct2``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tqcheck.engines.base import TokenScores
from tqcheck.engines.batching import map_sorted
from tqcheck.errors import EngineUnavailable, ModelNotFound
from tqcheck.model import EngineInfo

_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "source.spm", "sentencepiece.bpe.model")


class CTranslate2Translator:
    """A CTranslate2 model directory plus the transformers tokenizer of the original model.

    Languages, tags and special tokens are handled exactly as in ``HFTranslator`` (this engine
    borrows its tokenizer logic, never its weights), so the two give comparable outputs.
    ``compute_type`` (``default``, ``int8``, ``float16``, ...) is part of the engine identity,
    since it changes the outputs.
    """

    def __init__(
        self,
        model_dir: str,
        *,
        tokenizer: str | None = None,
        device: str = "cpu",
        dtype: str | None = None,
        compute_type: str | None = None,
        beam_size: int = 1,
        batch_size: int = 16,
        max_length: int = 256,
        max_new_tokens: int | None = None,
        intra_threads: int = 0,
        src_lang_code: str | None = None,
        tgt_lang_code: str | None = None,
    ) -> None:
        from tqcheck.engines.translate.hf import HFTranslator

        if not model_dir:
            raise EngineUnavailable("the ct2 translator needs a converted model directory",
                                    fix="use ct2:/path/to/model-ct2")
        self.model_dir = str(Path(model_dir).expanduser())
        if tokenizer is None:
            if not any((Path(self.model_dir) / name).exists() for name in _TOKENIZER_FILES):
                raise ModelNotFound(
                    f"no tokenizer files in {self.model_dir}",
                    fix="convert with --copy_files (source.spm target.spm vocab.json "
                        "tokenizer_config.json), or pass tokenizer=<original model id or dir>",
                )
            tokenizer = self.model_dir
        self.tokenizer_id = tokenizer
        self.device = device
        self.compute_type = compute_type or dtype or "default"
        self.beam_size = int(beam_size)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.max_new_tokens = int(max_new_tokens) if max_new_tokens else None
        self.intra_threads = int(intra_threads)
        # Tokenizer, language tags and special ids only: its weights are never loaded.
        self._text = HFTranslator(tokenizer, max_length=max_length, src_lang_code=src_lang_code,
                                  tgt_lang_code=tgt_lang_code)
        self._translator: Any = None

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.provenance import dir_fingerprint, package_version

        return EngineInfo(
            role="translator", name="ct2", model_id=self.model_dir,
            revision=dir_fingerprint(self.model_dir) if Path(self.model_dir).exists() else None,
            version=f"ctranslate2 {package_version('ctranslate2')} compute_type={self.compute_type}",
        )

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return self._text.supports(source_lang, target_lang)

    @property
    def tokenizer(self) -> Any:
        return self._text.tokenizer

    @cached_property
    def translator(self) -> Any:
        try:
            import ctranslate2
        except ImportError as exc:
            raise EngineUnavailable("the ct2 translator needs the ctranslate2 package",
                                    fix="pip install 'tqcheck[ct2]' (or pip install ctranslate2)"
                                    ) from exc
        if not (Path(self.model_dir) / "model.bin").exists():
            raise ModelNotFound(f"no CTranslate2 model (model.bin) in {self.model_dir}",
                                fix="convert one with ct2-transformers-converter")
        device = "cuda" if self.device.startswith("cuda") else "cpu"
        return ctranslate2.Translator(self.model_dir, device=device,
                                      compute_type=self.compute_type,
                                      intra_threads=self.intra_threads)

    def _source_tokens(self, texts: Sequence[str], source_lang: str, target_lang: str
                       ) -> tuple[list[list[str]], list[str] | None]:
        prepared, extra = self._text._prepare_sources(texts, source_lang, target_lang)
        tokenizer = self.tokenizer
        tokens = [tokenizer.convert_ids_to_tokens(
                      tokenizer(text, truncation=True, max_length=self.max_length)["input_ids"])
                  for text in prepared]
        bos = extra.get("forced_bos_token_id")
        prefix = [tokenizer.convert_ids_to_tokens(bos)] if bos is not None else None
        return tokens, prefix

    def translate(self, texts: Sequence[str], *, source_lang: str, target_lang: str) -> list[str]:
        self._text._check_pair(source_lang, target_lang)
        texts = list(texts)
        out = [""] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return out
        tokens, prefix = self._source_tokens([texts[i] for i in todo], source_lang, target_lang)
        special = self._text._special_ids
        tokenizer = self.tokenizer

        def run(batch: list[list[str]]) -> list[str]:
            results = self.translator.translate_batch(
                batch, target_prefix=[prefix] * len(batch) if prefix else None,
                # The output limit of the transformers engine (max_new_tokens, else 2 * max_length
                # + 16); one step is kept for the end token, as transformers' forced EOS does.
                beam_size=self.beam_size,
                max_decoding_length=max(1, (self.max_new_tokens or 2 * self.max_length + 16) - 1),
                max_batch_size=self.batch_size,
            )
            ids = [[tok for tok in tokenizer.convert_tokens_to_ids(result.hypotheses[0])
                    if tok not in special] for result in results]
            return [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]

        for i, result in zip(todo, map_sorted(tokens, run, batch_size=self.batch_size)):
            out[i] = result
        return out

    def score(self, *, sources: Sequence[str], targets: Sequence[str], source_lang: str,
              target_lang: str) -> list[TokenScores]:
        """Forced-decoding log-probabilities of each target token, with character offsets."""
        from tqcheck.engines.offsets import align_pieces, scores_from_spans

        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
        self._text._check_pair(source_lang, target_lang)
        if not targets:
            return []
        source_tokens, prefix = self._source_tokens(sources, source_lang, target_lang)
        tokenizer = self.tokenizer
        special = self._text._special_ids
        target_pieces = []
        for target in targets:
            ids = tokenizer(text_target=target, truncation=True,
                            max_length=self.max_length)["input_ids"]
            # CTranslate2 adds the end token itself; a language tag goes first, as a prefix.
            target_pieces.append((prefix or []) + tokenizer.convert_ids_to_tokens(
                [tok for tok in ids if tok not in special or tok == tokenizer.unk_token_id]))
        pairs = list(zip(source_tokens, target_pieces, targets))

        def run(batch: list[tuple[list[str], list[str], str]]) -> list[TokenScores]:
            results = self.translator.score_batch([s for s, _, _ in batch],
                                                  [t for _, t, _ in batch],
                                                  max_batch_size=self.batch_size)
            scored = []
            for (_, pieces, text), result in zip(batch, results):
                skip = len(prefix or [])
                body = pieces[skip:]
                logprobs = list(result.log_probs)[skip:skip + len(body)]
                spans = align_pieces(body, text, unk_token=tokenizer.unk_token)
                scored.append(scores_from_spans(spans, logprobs, text))
            return scored

        return map_sorted(pairs, run, batch_size=self.batch_size,
                          length=lambda pair: len(pair[0]) + len(pair[1]))
