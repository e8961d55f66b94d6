"""medsearch subpackage."""
