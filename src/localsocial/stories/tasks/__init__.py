"""Background tasks of the stories module, one module per part (django-tasks)."""
