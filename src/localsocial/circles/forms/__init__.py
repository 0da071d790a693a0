"""Forms for the circles pages, one module per part."""
