"""Who may do what: signed tokens, hashed credentials, route guards and rate limits."""
