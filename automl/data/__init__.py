"""Reading tables safely, the schema and task, the column profile, the preprocessing built from the schema,
and the rules every stage shares (what one category is, probability column names, required columns)."""

from automl.data._dataset import (
    REGRESSION, TASKS, Dataset, detect_task, load_dataset, prepare_dataset, strip_labels
)
from automl.data._preprocess import (
    DatetimeParts, FrameCoercer, build_pipeline, build_preprocessor, feature_origins, make_coercer
)
from automl.data._profile import profile_table
from automl.data._read import max_file_bytes, read_table
from automl.data._rules import canonical_categories, canonical_category, proba_class, proba_column, require_columns
from automl.data._schema import (
    BOOLEAN, CATEGORICAL, CONSTANT, DATETIME, ID, MAX_CATEGORIES_STORED, NUMERIC, TEXT, USABLE_KINDS, ColumnInfo,
    Schema, infer_schema, to_datetime
)
from automl.data._target_guess import TargetGuess, guess_target

__all__ = ["BOOLEAN", "CATEGORICAL", "CONSTANT", "ColumnInfo", "DATETIME", "Dataset", "DatetimeParts", "FrameCoercer",
    "ID", "MAX_CATEGORIES_STORED", "NUMERIC", "REGRESSION", "Schema", "TASKS", "TEXT", "TargetGuess", "USABLE_KINDS",
    "build_pipeline", "build_preprocessor", "canonical_categories", "canonical_category", "detect_task",
    "feature_origins", "guess_target", "infer_schema", "load_dataset", "make_coercer", "max_file_bytes",
    "prepare_dataset", "proba_class", "proba_column", "profile_table", "read_table", "require_columns", "strip_labels",
    "to_datetime"]
