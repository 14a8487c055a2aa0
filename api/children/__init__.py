"""Children and their households."""
