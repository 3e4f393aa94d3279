"""The outbound dialer: campaigns, lead lists, compliance and (in ``dialer.pacing``) pacing."""
