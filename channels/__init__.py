"""Channels other than voice: chat conversations and e-mail in (SMTP intake) and out (relay).

A top-level package because both the websocket gateway (`agent_desktop`) and the
composition root (`ringway.app`) use it, and neither owns it: a chat is a
conversation with its transcript and rate limits, an e-mail a threaded case with
its headers — channel logic that needs no socket of the desktop's. Imports point
down only: `channels` uses `ringway.service` and `router`, never `agent_desktop`.
"""
