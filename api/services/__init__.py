"""Services: what the routers call. They raise ``ApiProblem`` for anything a caller can fix."""
