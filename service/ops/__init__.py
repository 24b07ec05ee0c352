"""What operators run: health and metrics endpoints, recount, verify and export."""
