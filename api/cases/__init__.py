"""Cases: reports of violence against children and of stunting risk."""
