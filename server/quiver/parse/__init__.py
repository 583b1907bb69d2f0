"""parse stage of the pipeline."""
