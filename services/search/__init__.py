"""The search service: owns the search index and answers /search and /suggest."""
