"""The console's browser softphone as a carrier: staff talk to the receptionist from a
web page, over one WebSocket of JSON control frames and 16 kHz PCM audio frames."""
