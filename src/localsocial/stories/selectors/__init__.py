"""Every read in the stories module that is more than a one-liner, one file per part."""
