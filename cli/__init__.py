"""The chaintop command line (Typer): one module per noun."""
