"""E-mail as a channel: the SMTP intake, threading into cases, replies through a relay."""
