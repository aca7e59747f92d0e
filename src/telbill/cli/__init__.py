"""The `telbill` command line (Typer + Rich)."""
