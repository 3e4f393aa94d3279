"""The configuration the mail tests serve (a data dir and the relay's port to fill in)."""

CONFIG = """
service:
  data_dir: "{data_dir}"
  customer_store: "memory://"
  seed_demo_customers: true
  smtp_port: 0
routing:
  entry_points: {{"help@ringway.test": email}}
desktop: {{heartbeat_s: 0.5, dead_after_s: 5}}
mail:
  relay_host: 127.0.0.1
  relay_port: {relay_port}
  message_id_domain: ringway.test
  relay_timeout_s: 2
skills: [support]
queues:
  - {{name: email, channel: email, requires: "support>=1", strategy: round-robin, wrap_up_s: 0}}
  - {{name: chat, channel: chat, requires: "support>=1"}}
agents:
  - {{id: alice, name: Alice Ahmed, skills: {{support: 5}}}}
  - {{id: bob, name: Bob Baker, skills: {{support: 5}}}}
"""
