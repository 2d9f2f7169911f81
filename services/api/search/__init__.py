"""Search, as the API sees it: the outbox written with every change, the relay that feeds the
search service, the documents it sends, and the public routes that forward searches."""
