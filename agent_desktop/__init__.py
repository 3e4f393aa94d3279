"""Agent desktop, supervisor wallboard and chat widget over websockets (desktop issue)."""
