"""What the command line answers: one-line errors, `--help`, checks of the values given."""
