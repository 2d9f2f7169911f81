"""Participation statistics: who publishes, what is published and played, what waits for review,
and which schools are paired, per school and for the district, by semester."""
