"""Use cases (load, decide, append, project) and the ports adapters implement."""
