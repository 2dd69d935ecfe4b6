"""The kiosk's Textual UI: KioskApp and one module per screen; business rules live in kiosk/."""
