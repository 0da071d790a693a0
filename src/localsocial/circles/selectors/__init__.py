"""Reads for the circles module: one module per part."""
