"""ivf stage of the pipeline."""
