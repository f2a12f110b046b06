"""SHAP explanations per model family (an ensemble member by member), sampled and cached, and permutation
importance."""

from automl.explain._explain import (
    IMPORTANCE, Explanation, LocalExplanation, explain_experiment, explain_row, explanation_ready, global_importance,
    load_explanation, make_explainer, row_explanation
)
from automl.explain._members import EnsembleExplainer, build_explainer, member_kind
from automl.explain._shap_values import OutputTarget
from automl.explain._views import (
    DependenceData, PermutationImportance, beeswarm_data, dependence_data, feature_colours, permutation_importance,
    value_text
)

__all__ = ["DependenceData", "EnsembleExplainer", "Explanation", "IMPORTANCE", "LocalExplanation", "OutputTarget",
    "PermutationImportance", "beeswarm_data", "build_explainer", "dependence_data", "explain_experiment",
    "explain_row", "explanation_ready", "feature_colours", "global_importance", "load_explanation",
    "make_explainer", "member_kind", "permutation_importance", "row_explanation", "value_text"]
