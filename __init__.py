"""framestamp."""
