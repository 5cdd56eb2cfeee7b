"""Translation and forced-decoding scores with any transformers seq2seq model.

MarianMT (``Helsinki-NLP/opus-mt-fr-en``), NLLB-200 (``facebook/nllb-200-distilled-600M``) and
M2M100 (``facebook/m2m100_418M``) load from a hub id (out of the local cache when
``HF_HUB_OFFLINE`` is set) or from a local directory. Weights load on first use, so building a
pipeline that names this engine is cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tqcheck.engines.base import TokenScores
from tqcheck.engines.batching import map_sorted
from tqcheck.errors import EngineUnavailable
from tqcheck.langcodes import ISO3_TO_ISO1, M2M100_CODES, NLLB_CODES, base_lang, same_lang
from tqcheck.model import EngineInfo

_OPUS_NAME = re.compile(r"opus-mt-(?:tc-[a-z]+-)?([A-Za-z]+(?:_[A-Za-z]+)*)-([A-Za-z]+(?:_[A-Za-z]+)*)")


def opus_mt_id(source_lang: str, target_lang: str) -> str:
    """The Helsinki-NLP MarianMT model id for a language pair (it may or may not exist)."""
    return f"Helsinki-NLP/opus-mt-{base_lang(source_lang)}-{base_lang(target_lang)}"


def _family_from_name(model: str) -> str | None:
    name = model.lower()
    if "nllb" in name:
        return "nllb"
    if "m2m100" in name or "m2m_100" in name:
        return "m2m100"
    if "opus-mt" in name or "marian" in name:
        return "marian"
    return None


def _is_language(code: str) -> bool:
    """``fr``, ``eng``: a language; ``ROMANCE``, ``mul``, ``gmw``: a group of languages."""
    return len(code) in (2, 3) and code.islower() and code != "mul" and (
        len(code) == 2 or code in ISO3_TO_ISO1)


def _side_serves(code: str, lang: str) -> bool:
    return same_lang(code, lang) if _is_language(code) else True


class HFTranslator:
    """A transformers seq2seq translator that can also score a given translation.

    ``translate`` generates in length-sorted batches (longest first, so each batch pads little) and
    returns outputs in input order; ``score`` runs forced decoding and gives each target token its
    log-probability with character offsets into the target text (see ``tqcheck.engines.offsets``).
    Special tokens (end of sentence, NLLB language tags) are forced, carry no characters, and are
    left out of the scores.

    ``src_lang_code`` / ``tgt_lang_code`` override the language tags for multilingual models when
    the ISO 639-1 table does not fit (e.g. ``zho_Hant``).
    """

    def __init__(
        self,
        model_id_or_path: str,
        *,
        device: str = "cpu",
        dtype: Any = None,
        beam_size: int = 1,
        batch_size: int = 16,
        max_length: int = 256,
        max_new_tokens: int | None = None,
        src_lang_code: str | None = None,
        tgt_lang_code: str | None = None,
        revision: str | None = None,
    ) -> None:
        if not model_id_or_path:
            raise EngineUnavailable("the hf translator needs a model",
                                    fix="name one, e.g. hf:Helsinki-NLP/opus-mt-fr-en")
        self.model_id = model_id_or_path
        self.device = device
        self.dtype = dtype
        self.beam_size = int(beam_size)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.max_new_tokens = int(max_new_tokens) if max_new_tokens else None
        self.src_lang_code = src_lang_code
        self.tgt_lang_code = tgt_lang_code
        self.revision = revision
        self._model: Any = None
        self._tokenizer: Any = None

    # -- identity ---------------------------------------------------------------------------------

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.hf_common import hub_revision
        from tqcheck.engines.provenance import package_version

        config = self._model.config if self._model is not None else None
        return EngineInfo(
            role="translator", name="hf", model_id=self.model_id,
            revision=hub_revision(self.model_id, config) or self.revision,
            version=f"transformers {package_version('transformers')}",
        )

    # -- languages --------------------------------------------------------------------------------

    @cached_property
    def family(self) -> str:
        """``marian``, ``nllb``, ``m2m100`` or ``other``, from the name or the saved files."""
        family = _family_from_name(self.model_id)
        if family is not None:
            return family
        model_type = (self._json_file("config.json") or {}).get("model_type")
        tokenizer_class = str((self._json_file("tokenizer_config.json") or {}).get("tokenizer_class"))
        if model_type == "marian" or "Marian" in tokenizer_class:
            return "marian"
        if "Nllb" in tokenizer_class:
            return "nllb"
        if model_type == "m2m_100" or "M2M100" in tokenizer_class:
            return "m2m100"
        return "other"

    def _json_file(self, name: str) -> dict[str, Any] | None:
        """A small JSON file of the model, from its directory or the hub cache (never the network)."""
        from tqcheck.engines.hf_common import cached_file, is_local

        path: str | None
        if is_local(self.model_id):
            candidate = Path(self.model_id).expanduser() / name
            path = str(candidate) if candidate.exists() else None
        else:
            path = cached_file(self.model_id, name)
        if path is None:
            return None
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @cached_property
    def marian_pair(self) -> tuple[str, str] | None:
        """(source, target) of a bilingual Marian model, from its name or its tokenizer config.

        Group names such as ``ROMANCE`` or ``mul`` are kept as they are (they match no language
        code, so ``supports`` falls back to asking the tokenizer)."""
        match = _OPUS_NAME.search(self.model_id)
        if match:
            return match.group(1), match.group(2)
        tokenizer_config = self._json_file("tokenizer_config.json") or {}
        src, tgt = tokenizer_config.get("source_lang"), tokenizer_config.get("target_lang")
        if src and tgt:
            return str(src), str(tgt)
        return None

    def _lang_code(self, lang: str, *, target: bool) -> str | None:
        override = self.tgt_lang_code if target else self.src_lang_code
        if override:
            return override
        if self.family == "nllb":
            return NLLB_CODES.get(base_lang(lang) or "")
        if self.family == "m2m100":
            code = base_lang(lang)
            return code if code in M2M100_CODES else None
        return None

    def supports(self, source_lang: str, target_lang: str) -> bool:
        if same_lang(source_lang, target_lang):
            return False
        if self.family in ("nllb", "m2m100"):
            return (self._lang_code(source_lang, target=False) is not None
                    and self._lang_code(target_lang, target=True) is not None)
        pair = self.marian_pair
        if pair is None:
            return True  # an unknown model was named explicitly: trust the user
        if not (_side_serves(pair[0], source_lang) and _side_serves(pair[1], target_lang)):
            return False
        if _is_language(pair[1]):
            return True
        # A group target (opus-mt-en-ROMANCE): the model's >>xx<< tags decide, once it is loaded.
        return self._marian_target_tag(target_lang, load=False) is not False

    def _marian_target_tag(self, target_lang: str, *, load: bool = True) -> str | None | bool:
        """The ``>>fra<<`` prefix a multi-target Marian model needs, None if it needs none,
        False if it cannot produce ``target_lang``."""
        if not load and self._tokenizer is None:
            return None
        codes = getattr(self.tokenizer, "supported_language_codes", None) or []
        if not codes:
            return None
        code = base_lang(target_lang)
        candidates = [code] + [iso3 for iso3, iso1 in ISO3_TO_ISO1.items() if iso1 == code]
        for candidate in candidates:
            if f">>{candidate}<<" in codes:
                return f">>{candidate}<<"
        return False

    # -- loading ----------------------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            from tqcheck.engines.hf_common import load_hf

            kwargs: dict[str, Any] = {}
            if self.revision:
                kwargs["revision"] = self.revision
            self._tokenizer = load_hf(self.model_id, AutoTokenizer.from_pretrained,
                                      what="tokenizer", **kwargs)
        return self._tokenizer

    @property
    def model(self) -> Any:
        if self._model is None:
            from transformers import AutoModelForSeq2SeqLM

            from tqcheck.engines.hf_common import load_hf, resolve_device, resolve_dtype

            device = resolve_device(self.device)
            kwargs: dict[str, Any] = {"dtype": resolve_dtype(self.dtype, device)}
            if self.revision:
                kwargs["revision"] = self.revision
            model = load_hf(self.model_id, AutoModelForSeq2SeqLM.from_pretrained,
                            what="translation model", **kwargs)
            model.to(device)
            model.eval()
            self.device = device
            self._model = model
        return self._model

    @property
    def _limit(self) -> int:
        """``max_length``, capped so that no position runs past the model's position table."""
        positions = getattr(self.model.config, "max_position_embeddings", None)
        return min(self.max_length, positions - 2) if positions else self.max_length

    @property
    def _output_limit(self) -> int:
        """Most tokens a translation may have: ``max_new_tokens`` when given, else
        ``2 * max_length + 16``; within the position table. ``max_length`` cuts sources; it must not
        also cut the translation of a source that expands (English -> French runs ~15 % longer).
        Fixed per engine, not per batch, so that a text's translation does not depend on the texts
        batched with it."""
        positions = getattr(self.model.config, "max_position_embeddings", None)
        limit = self.max_new_tokens or 2 * self.max_length + 16
        return min(limit, positions - 2) if positions else limit

    def _check_pair(self, source_lang: str, target_lang: str) -> None:
        if not self.supports(source_lang, target_lang):
            raise EngineUnavailable(
                f"model {self.model_id} does not translate {source_lang}->{target_lang}",
                fix=f"use a model for the pair, e.g. hf:{opus_mt_id(source_lang, target_lang)}",
            )

    def _prepare_sources(self, texts: Sequence[str], source_lang: str, target_lang: str
                         ) -> tuple[list[str], dict[str, Any]]:
        """Set the tokenizer's language tags; prefix Marian target tags; generation extras."""
        tokenizer = self.tokenizer
        extra: dict[str, Any] = {}
        if self.family in ("nllb", "m2m100"):
            src_code = self._lang_code(source_lang, target=False)
            tgt_code = self._lang_code(target_lang, target=True)
            tokenizer.src_lang = src_code
            tokenizer.tgt_lang = tgt_code
            lang_token = tgt_code if self.family == "nllb" else f"__{tgt_code}__"
            extra["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(lang_token)
            return list(texts), extra
        tag = self._marian_target_tag(target_lang)
        if tag is False:
            raise EngineUnavailable(f"model {self.model_id} has no target tag for {target_lang}")
        if isinstance(tag, str):
            return [f"{tag} {text}" for text in texts], extra
        return list(texts), extra

    # -- translate --------------------------------------------------------------------------------

    def translate(self, texts: Sequence[str], *, source_lang: str, target_lang: str) -> list[str]:
        self._check_pair(source_lang, target_lang)
        texts = list(texts)
        if not texts:
            return []
        out = [""] * len(texts)
        todo = [i for i, text in enumerate(texts) if text.strip()]
        if not todo:
            return out
        prepared, extra = self._prepare_sources([texts[i] for i in todo], source_lang, target_lang)
        results = map_sorted(prepared, lambda batch: self._generate(batch, extra),
                             batch_size=self.batch_size)
        for i, result in zip(todo, results):
            out[i] = result
        return out

    def _generate(self, batch: list[str], extra: dict[str, Any]) -> list[str]:
        import torch

        tokenizer, model = self.tokenizer, self.model
        encoded = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                            max_length=self._limit).to(model.device)
        with torch.inference_mode():
            generated = model.generate(
                **encoded, num_beams=self.beam_size, do_sample=False,
                max_new_tokens=self._output_limit, **extra,
            )
        special = self._special_ids
        kept = [[tok for tok in row if tok not in special] for row in generated.tolist()]
        return [text.strip() for text in tokenizer.batch_decode(kept, skip_special_tokens=True)]

    @cached_property
    def _special_ids(self) -> set[int]:
        """Ids that carry no text: specials, and language tags, which some tokenizers (M2M100 in
        transformers 5) do not register as special."""
        tokenizer = self.tokenizer
        ids = set(tokenizer.all_special_ids)
        ids.update(getattr(tokenizer, "lang_token_to_id", {}).values())
        for token_id, added in getattr(tokenizer, "added_tokens_decoder", {}).items():
            if getattr(added, "special", False):
                ids.add(int(token_id))
        return ids

    # -- forced decoding --------------------------------------------------------------------------

    def score(
        self,
        *,
        sources: Sequence[str],
        targets: Sequence[str],
        source_lang: str,
        target_lang: str,
    ) -> list[TokenScores]:
        """Log-probability of each target token given the source and the target prefix."""
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
        self._check_pair(source_lang, target_lang)
        if not targets:
            return []
        prepared, _ = self._prepare_sources(sources, source_lang, target_lang)
        pairs = list(zip(prepared, targets))
        return map_sorted(pairs, self._score_batch, batch_size=self.batch_size,
                          length=lambda pair: len(pair[0]) + len(pair[1]))

    def _score_batch(self, pairs: list[tuple[str, str]]) -> list[TokenScores]:
        import torch

        tokenizer, model = self.tokenizer, self.model
        sources = [source for source, _ in pairs]
        targets = [target for _, target in pairs]
        limit = self._limit
        encoded = tokenizer(sources, return_tensors="pt", padding=True, truncation=True,
                            max_length=limit)
        fast = bool(getattr(tokenizer, "is_fast", False))
        target_kwargs: dict[str, Any] = {"truncation": True, "max_length": limit}
        if fast:
            target_kwargs["return_offsets_mapping"] = True
        labelled = tokenizer(text_target=targets, **target_kwargs)
        label_ids: list[list[int]] = [list(ids) for ids in labelled["input_ids"]]
        width = max(len(ids) for ids in label_ids)
        labels = torch.full((len(pairs), width), -100, dtype=torch.long)
        for row, ids in enumerate(label_ids):
            labels[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        encoded = encoded.to(model.device)
        with torch.inference_mode():
            logits = model(**encoded, labels=labels.to(model.device)).logits.float()
            if self.family == "marian" and tokenizer.pad_token_id is not None:
                # Marian models have no padding token of their own (the conversion adds one and
                # generation bans it): leave it out of the distribution, as Marian and
                # CTranslate2 do, so scores are the model's own.
                logits[..., tokenizer.pad_token_id] = float("-inf")
            logprobs = torch.log_softmax(logits, dim=-1)
            gathered = logprobs.gather(-1, labels.clamp(min=0).to(model.device).unsqueeze(-1))
        row_logprobs_all: list[list[float]] = gathered.squeeze(-1).cpu().tolist()
        special = self._special_ids
        results = []
        for row, (ids, target) in enumerate(zip(label_ids, targets)):
            row_logprobs = row_logprobs_all[row][:len(ids)]
            if fast:
                offsets = labelled["offset_mapping"][row]
                results.append(_scores_from_offsets(ids, offsets, row_logprobs, target, special))
            else:
                results.append(_scores_from_pieces(tokenizer, ids, row_logprobs, target, special))
        return results


def _scores_from_offsets(ids: list[int], offsets: Sequence[tuple[int, int]],
                         logprobs: list[float], text: str, special: set[int]) -> TokenScores:
    from tqcheck.engines.offsets import scores_from_spans

    kept = [((start, end), lp) for tok, (start, end), lp in zip(ids, offsets, logprobs)
            if tok not in special]
    return scores_from_spans([span for span, _ in kept], [lp for _, lp in kept], text)


def _scores_from_pieces(tokenizer: Any, ids: list[int], logprobs: list[float], text: str,
                        special: set[int]) -> TokenScores:
    from tqcheck.engines.offsets import align_pieces, scores_from_spans

    unk = getattr(tokenizer, "unk_token_id", None)
    kept = [(tok, lp) for tok, lp in zip(ids, logprobs) if tok not in special or tok == unk]
    pieces = tokenizer.convert_ids_to_tokens([tok for tok, _ in kept])
    spans = align_pieces(pieces, text, unk_token=tokenizer.unk_token)
    return scores_from_spans(spans, [lp for _, lp in kept], text)
