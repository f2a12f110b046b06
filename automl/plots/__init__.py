"""Every Plotly figure the dashboard and the HTML report show, one module per area."""
