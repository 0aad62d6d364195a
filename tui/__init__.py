"""The Textual TUI: an explorer and control room around the in-process node (`chaintop tui`)."""
