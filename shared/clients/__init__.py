"""Clients of the two outside services. They raise TransientError or PermanentError, nothing else."""
