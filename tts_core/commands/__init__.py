"""One module per `obs-tts` sub-command; each has add_command(subparsers)."""
