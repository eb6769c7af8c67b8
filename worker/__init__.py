"""The Celery worker and beat: thin tasks that load a conference by id and call a service."""
