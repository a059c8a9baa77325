"""Alertmanager output: routes and inhibit rules from the declarations, merge, amtool.

Import submodules directly (``perfdash.alertmanager.routing``).
"""
