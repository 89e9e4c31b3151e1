"""Ingest: stream events become messages (translation, speech templates, clean-up, moderation)."""
