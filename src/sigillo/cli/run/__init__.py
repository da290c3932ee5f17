"""The machinery of `sigillo run` (the command itself is `cli/commands/run.py`):

- `protected.py`: which values are protected, and in which byte forms (docs/redaction.md);
- `redaction.py`: the redactor, a pure streaming state machine over those forms;
- `supervise.py`: the child process, its output streamed through redactors, its signals;
- `terminals.py`: pipes and pseudo-terminals for the child, and the controlling terminal;
- `mounts.py`: the secrets as a 0600 file or a named pipe beside the child.

Standard library only (and the matcher library): `sigillo run` imports these before it
starts the child, and its start-up is measured (bench/run_bench.py).
"""
