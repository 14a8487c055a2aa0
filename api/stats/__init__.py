"""The KLA dashboard: how far each kelurahan is from zero cases of violence against children."""
