"""One module per group of commands; each function takes a Context."""
