"""framestamp.prompts."""
