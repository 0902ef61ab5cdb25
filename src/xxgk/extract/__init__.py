"""Text → cell map: tokens, sections, tables, values, metadata."""
