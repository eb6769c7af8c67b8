"""One module per outside effect of a conference; shared/pipeline/registry.py lists them in order."""
