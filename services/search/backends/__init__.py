"""Index backends: tantivy (embedded) and Elasticsearch (scale-out), one interface (`base`)."""
