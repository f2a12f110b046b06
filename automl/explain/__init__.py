"""SHAP explanations per model family, sampled and cached, and permutation importance."""

from automl.explain._explain import (
    IMPORTANCE, Explanation, LocalExplanation, explain_experiment, explain_row, global_importance, load_explanation,
    make_explainer, row_explanation
)
from automl.explain._shap_values import OutputTarget, build_explainer
from automl.explain._views import (
    DependenceData, PermutationImportance, beeswarm_data, dependence_data, feature_colours, permutation_importance,
    value_text
)

__all__ = ["DependenceData", "Explanation", "IMPORTANCE", "LocalExplanation", "OutputTarget", "PermutationImportance",
    "beeswarm_data", "build_explainer", "dependence_data", "explain_experiment", "explain_row", "feature_colours",
    "global_importance", "load_explanation", "make_explainer", "permutation_importance", "row_explanation",
    "value_text"]
