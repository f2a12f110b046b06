"""Small real datasets shipped with the package, so a new user has data to train on.

Sources (byte-identical copies; see tests/fixtures/SOURCES.md):
titanic.csv — Kaggle "Titanic" train split as shipped by PyCaret (pycaret/datasets, data/common/titanic.csv);
car-evaluation.csv — UCI Car Evaluation (OpenML 40975);
ames-house-prices.csv — De Cock's Ames housing, Kaggle "House Prices" train split
(pycaret/datasets, data/common/house.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Sample:
    name: str
    file: str
    target: str
    task: str
    description: str

    @property
    def path(self) -> Path:
        return HERE / self.file


SAMPLES = [
    Sample("Titanic survival", "titanic.csv", "Survived", "binary",
           "891 passengers: who survived? Numbers, categories, free text and missing ages."),
    Sample("Car evaluation", "car-evaluation.csv", "class", "multiclass",
           "1,728 cars rated unacc/acc/good/vgood from six categorical attributes."),
    Sample("Ames house prices", "ames-house-prices.csv", "SalePrice", "regression",
           "1,460 house sales with 79 features: predict the sale price."),
]
