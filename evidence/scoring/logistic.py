"""A multinomial logistic regression, as shipped: standardised features, one coefficient row
per label, softmax. The stance model and the verdict model are both one (trained by
``bench/train_stance.py`` with numpy; read here with plain Python so scoring needs no numpy
call per passage). Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class LogisticModel:
    labels: tuple[str, ...]
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[tuple[float, ...], ...]  # one row per label
    intercept: tuple[float, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(
            tuple(data["labels"]),
            tuple(data["features"]),
            tuple(float(v) for v in data["mean"]),
            tuple(float(v) for v in data["scale"]),
            tuple(tuple(float(v) for v in row) for row in data["coef"]),
            tuple(float(v) for v in data["intercept"]),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "features": list(self.features),
            "mean": [round(v, 5) for v in self.mean],
            "scale": [round(v, 5) for v in self.scale],
            "coef": [[round(v, 5) for v in row] for row in self.coef],
            "intercept": [round(v, 5) for v in self.intercept],
        }

    def standardised(self, features: dict[str, float]) -> list[float]:
        return [
            (features.get(name, 0.0) - m) / s
            for name, m, s in zip(self.features, self.mean, self.scale, strict=True)
        ]

    def contributions(self, features: dict[str, float], label: str) -> dict[str, float]:
        """Each feature's share of ``label``'s score (what made the model say it)."""
        row = self.coef[self.labels.index(label)]
        z = self.standardised(features)
        return {name: w * x for name, w, x in zip(self.features, row, z, strict=True)}

    def probabilities(self, features: dict[str, float]) -> dict[str, float]:
        z = self.standardised(features)
        scores = [
            b + sum(w * x for w, x in zip(row, z, strict=True))
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        return {label: e / total for label, e in zip(self.labels, exp, strict=True)}
