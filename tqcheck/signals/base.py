"""The signal protocol: model-based evidence about a batch of segments.

A signal runs engines over a batch (batching is where models are fast) and returns, per segment,
named scores, texts for the reviewer (``artifacts``) and candidate flags with spans. The fusion step
(``tqcheck.fusion``) decides the final severity and the segment risk from the scores, using weights
measured on human labels; signals never decide on their own how much they are worth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tqcheck.model import EngineInfo, Flag, Segment, _frozen_mapping


@dataclass(frozen=True)
class SignalOutput:
    """What one signal found about one segment. Score names are ``<signal>.<metric>``."""

    scores: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    artifacts: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    flags: tuple[Flag, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "scores", _frozen_mapping(self.scores))
        object.__setattr__(self, "artifacts", _frozen_mapping(self.artifacts))
        object.__setattr__(self, "flags", tuple(self.flags))

    def to_dict(self) -> dict[str, Any]:
        return {"scores": dict(self.scores), "artifacts": dict(self.artifacts),
                "flags": [f.to_dict() for f in self.flags]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignalOutput:
        return cls(data.get("scores") or {}, data.get("artifacts") or {},
                   tuple(Flag.from_dict(f) for f in data.get("flags") or ()))


EMPTY = SignalOutput()


@runtime_checkable
class Signal(Protocol):
    """A named source of model evidence. ``engines`` go into the run signature."""

    name: str

    @property
    def engines(self) -> tuple[EngineInfo, ...]: ...

    def applies(self, segment: Segment) -> bool:
        """Whether this signal can say anything about the segment (language pair, source present)."""
        ...

    def compute(self, segments: Sequence[Segment]) -> list[SignalOutput]:
        """One output per segment, in order; segments it does not apply to get ``EMPTY``."""
        ...
