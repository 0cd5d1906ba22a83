"""framestamp.serving."""
