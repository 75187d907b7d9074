"""What the generic steps need: words and field names for people, profile editing, the evaluation clients."""
