"""The agencies cases are referred to, and the services each offers."""
