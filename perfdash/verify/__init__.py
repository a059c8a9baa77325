"""`perfdash test`: promtool on the generated rules and their unit tests, amtool on the routes."""
