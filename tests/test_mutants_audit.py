"""Tests that kill the mutants `make mutate` found surviving in kiosk/audit/."""
