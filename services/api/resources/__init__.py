"""The resource catalogue: records of courseware, lessons and recordings, their taxonomy, who
may see them, and the status machine they move through."""
