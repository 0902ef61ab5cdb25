"""From data to documents: a cell map rendered in the standard national layout."""
