"""The curriculum vocabulary: subjects, stages, grades, editions, volumes, chapters and
knowledge-point trees that resources are tagged with."""
