"""framestamp.client."""
