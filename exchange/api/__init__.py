"""REST API under /api/v1/: thin views that parse input, call one service, render output."""
