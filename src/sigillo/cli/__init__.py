"""The command-line client: talks to a Sigillo server over HTTP only (never imports the
server's stack), and `sigillo run`'s process supervision and redaction."""
