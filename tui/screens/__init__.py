"""The TUI's screens: one top-level screen per mode, and detail screens pushed on top of them."""
