"""crisiscomm: a crisis communication protocol engine for press services of state bodies."""

__version__ = "0.1.0"
