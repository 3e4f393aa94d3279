"""The IVR flows with every kind of node, shared by the flow runner's tests
(tests/ivr_flows/test_flows_run.py, test_callend_flow_dispatch.py), and the prompts they
name."""

FLOWS = """\
entries:
  {"*": main, "200": account, "300": tiers, "400": loopy, "500": ab, "600": forever, "700": skip}
flows:
  main:
    start: hello
    nodes:
      hello: {type: play, prompts: hello, interruptible: true, next: legal}
      legal: {type: play, prompts: legal, next: menu}
      menu:
        type: menu
        prompts: menu
        choices: {"1": sales, "2": sub, "9": cb, "0": bye}
        into: menu_key
        timeout_s: 4
        retries: 2
        invalid_prompts: invalid
        timeout_prompts: silence
        fallback: fallback
      sub:
        type: menu
        prompts: sub
        choices: {"1": billing, "*": menu}
        fallback: fallback
      sales: {type: set, attributes: {ivr_choice: sales}, next: to_sales}
      billing: {type: set, attributes: {ivr_choice: billing}, next: to_billing}
      fallback: {type: set, attributes: {ivr_choice: default}, next: to_support}
      to_sales: {type: route, queue: sales, priority: 5}
      to_billing: {type: route, queue: billing}
      to_support: {type: route, queue: support}
      cb: {type: callback, queue: support, prompts: confirm, no_number: to_support}
      bye: {type: hangup, prompts: goodbye, reason: caller_chose_to_leave}
  account:
    start: ask
    nodes:
      ask:
        type: collect
        prompts: enter
        into: account
        min_digits: 4
        max_digits: 6
        first_digit_timeout_s: 5
        inter_digit_timeout_s: 2
        retries: 1
        invalid_prompts: invalid
        timeout_prompts: silence
        next: done
        fallback: gone
      done: {type: route, queue: billing}
      gone: {type: hangup, reason: no_account}
  tiers:
    start: known
    nodes:
      known: {type: branch, by: customer, cases: {unknown: stranger}, default: tier}
      stranger: {type: set, attributes: {segment: stranger}, next: q}
      tier:
        type: branch
        by: customer.tier
        cases: {gold: gold, silver: silver}
        default: lang
      gold: {type: set, attributes: {segment: gold}, next: q}
      silver: {type: set, attributes: {segment: silver}, next: q}
      lang: {type: branch, by: customer.preferences.lang, cases: {es: spanish}, default: vip}
      spanish: {type: set, attributes: {segment: spanish}, next: q}
      vip: {type: branch, by: contact.vip, cases: {"true": vip_set}, default: other}
      vip_set: {type: set, attributes: {segment: vip}, next: q}
      other: {type: set, attributes: {segment: other}, next: q}
      q: {type: route, queue: support}
  loopy:
    start: a
    nodes:
      a: {type: set, attributes: {x: "1"}, next: b}
      b: {type: branch, by: contact.x, cases: {"2": q}, default: a}
      q: {type: route, queue: support}
  ab:
    start: pick
    nodes:
      pick: {type: split, weights: {left: 3, right: 1, never: 0}}
      left: {type: route, queue: sales}
      right: {type: route, queue: support}
      never: {type: route, queue: billing}
  skip:
    start: one
    nodes:
      one: {type: play, prompts: hello, interruptible: true, next: two}
      two: {type: play, prompts: legal, interruptible: true, next: three}
      three: {type: play, prompts: goodbye, next: menu}
      menu: {type: menu, prompts: menu, choices: {"1": q}, fallback: q}
      q: {type: route, queue: support}
  forever:
    start: music
    nodes:
      music: {type: play, prompts: hold, next: music}
limits: {max_hops: 20, max_nodes: 30, max_prompt_s: 60}
"""
PROMPTS = {
    "hello", "legal", "menu", "sub", "invalid", "silence", "confirm", "goodbye", "enter", "hold",
}  # fmt: skip
