"""Users, API tokens, and the policy deciding who may do what."""
