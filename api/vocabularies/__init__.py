"""The domain's code lists, each code with an Indonesian and an English label."""
