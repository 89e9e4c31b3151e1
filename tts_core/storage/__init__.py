"""What is kept on disk: the SQLite journal and its WAL check, the clip files."""
