"""The machinery of `sigillo run` (the command itself is `cli/commands/run.py`):

- `protected.py`: which values are protected, and in which byte forms (docs/redaction.md);
- `redaction.py`: the redactor, a pure streaming state machine over those forms;
- `supervise.py`: the child process, its output streamed through redactors, its signals;
- `streams.py`: each output stream read, redacted and written out;
- `terminals.py`: pipes and pseudo-terminals for the child, and the controlling terminal;
- `console.py`: one pseudo-terminal for the whole child when stdin, stdout and stderr are
  one terminal (its session leader, raw mode, keys relayed);
- `mounts.py`: the secrets as a 0600 file or a named pipe beside the child.

Standard library only (and the matcher library): `sigillo run` imports these before it
starts the child, and its start-up is measured (bench/run_bench.py).
"""
