"""`frontdesk eval`: conversation scenarios run against the receptionist."""
