"""Twilio: webhook signatures, TwiML, the Media Streams wire format and the call leg."""
