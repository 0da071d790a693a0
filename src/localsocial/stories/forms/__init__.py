"""Forms of the stories module, one module per part."""
