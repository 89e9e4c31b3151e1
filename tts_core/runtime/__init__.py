"""Threads and the public manager: the queue's runtime and the pieces that follow a message's lifecycle."""
