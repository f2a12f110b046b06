"""Using a model: predict on raw rows, input checks, prediction log, model files, model card, report, serving."""

from automl.deploy._csv_safe import spreadsheet_safe, to_safe_csv
from automl.deploy._export import bundle, export_joblib, export_skops, load_model
from automl.deploy._form_check import decimals_like, form_warnings, format_number
from automl.deploy._onnx_export import OnnxModel, export_onnx, onnx_support, pipeline_to_onnx
from automl.deploy._predict import describe_model, experiment_of_file, predict_experiment, predict_frame
from automl.deploy._report import build_report
from automl.deploy._serve import serve

__all__ = ["OnnxModel", "build_report", "bundle", "decimals_like", "describe_model", "experiment_of_file",
    "export_joblib", "export_onnx", "export_skops", "form_warnings", "format_number", "load_model", "onnx_support",
    "pipeline_to_onnx", "predict_experiment", "predict_frame", "serve", "spreadsheet_safe", "to_safe_csv"]
