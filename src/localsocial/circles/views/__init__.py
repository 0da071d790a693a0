"""The circles module's pages, one module per part; each lists its own ``urlpatterns``."""
