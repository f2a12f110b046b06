"""The Streamlit dashboard: thin pages over the automl library."""
