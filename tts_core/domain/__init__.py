"""Pure values and policies: no threads, no I/O."""
