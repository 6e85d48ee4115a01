"""`frontdesk dev-client`: call your own server from a terminal, exactly as Twilio would.

The client posts the signed voice webhook, opens the media stream with a signed
handshake, and plays both sides in real time (microphone and speakers, or a WAV
file), printing the call's live transcript and tool calls from the events feed.
"""
