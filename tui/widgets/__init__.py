"""One widget per file; each file's render_*(view) function draws it without the app (tests call them
directly)."""
