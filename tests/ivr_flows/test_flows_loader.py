"""Flow files: every problem is reported as ``file:line: key: problem``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows import FlowError, load_flows, load_flows_text
from ivr.flows.nodes import BranchNode, CollectNode, MenuNode

QUEUES = {"sales", "support"}
PROMPTS = {"menu_main", "goodbye", "invalid_choice", "no_input"}

BASE = """\
entries:
  "*": main
flows:
  main:
    start: menu
    nodes:
      menu:
        type: menu
        prompts: [menu_main]
        choices: {"1": to_sales}
        fallback: bye
      to_sales: {type: route, queue: sales}
      bye: {type: hangup, prompts: goodbye}
"""


def error_of(text: str) -> str:
    with pytest.raises(FlowError) as caught:
        load_flows_text(text, "t.yaml", queues=QUEUES, prompts=PROMPTS)
    return str(caught.value)


def with_node(line: str) -> str:
    """BASE plus one node line (line 14 of the file)."""
    return BASE + line + "\n"


def test_the_base_file_is_valid() -> None:
    flows = load_flows_text(BASE, "t.yaml", queues=QUEUES, prompts=PROMPTS)
    assert flows.names() == ["main"]
    menu = flows.flow("main").nodes["menu"]
    assert isinstance(menu, MenuNode)
    assert menu.choices == {"1": "to_sales"} and menu.retries == 2 and menu.interruptible


def test_yaml_syntax_error_names_the_line() -> None:
    assert error_of(BASE.replace("start: menu", "start: [menu")).startswith("t.yaml:6: YAML syntax")


def test_a_file_that_is_not_a_mapping() -> None:
    assert error_of("- a\n- b\n") == "t.yaml:1: the file must be a mapping (entries, flows)"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match=r"missing\.yaml: cannot read"):
        load_flows(tmp_path / "missing.yaml")


def test_unknown_top_level_key() -> None:
    assert error_of(BASE + "flow_s: {}\n") == "t.yaml:14: flow_s: Extra inputs are not permitted"


def test_entries_without_a_default() -> None:
    text = BASE.replace('"*": main', '"+18005550100": main')
    assert error_of(text) == "t.yaml:1: entries: a default entry '*' is required"


def test_entry_to_an_unknown_flow() -> None:
    text = BASE.replace('"*": main', '"*": main\n  "100": mian')
    assert error_of(text) == "t.yaml:3: entries.100: unknown flow 'mian' (flows: main)"


def test_unknown_start_node() -> None:
    text = BASE.replace("start: menu", "start: manu")
    assert error_of(text) == "t.yaml:5: flows.main.start: unknown node 'manu'"


def test_flow_without_nodes() -> None:
    text = 'entries: {"*": main}\nflows:\n  main:\n    start: a\n    nodes: {}\n'
    assert error_of(text) == (
        "t.yaml:5: flows.main.nodes: Dictionary should have at least 1 item after validation, not 0"
    )


def test_node_without_a_type() -> None:
    assert error_of(with_node("      odd: {next: bye}")) == (
        "t.yaml:14: flows.main.nodes.odd: missing 'type' "
        "(one of play, collect, menu, branch, split, set, route, callback, hangup)"
    )


def test_unknown_node_type() -> None:
    assert error_of(with_node("      odd: {type: dial, next: bye}")).startswith(
        "t.yaml:14: flows.main.nodes.odd.type: unknown node type 'dial'"
    )


def test_misspelt_key_in_a_node() -> None:
    text = BASE.replace("prompts: [menu_main]", "promts: [menu_main]")
    assert (
        error_of(text) == "t.yaml:9: flows.main.nodes.menu.promts: Extra inputs are not permitted"
    )


def test_missing_required_key() -> None:
    assert error_of(with_node("      hello: {type: play, prompts: goodbye}")) == (
        "t.yaml:14: flows.main.nodes.hello.next: Field required"
    )


def test_unknown_next_node() -> None:
    assert error_of(with_node("      hello: {type: play, prompts: goodbye, next: menuu}")) == (
        "t.yaml:14: flows.main.nodes.hello.next: unknown node 'menuu'"
    )


def test_unknown_fallback_node() -> None:
    text = BASE.replace("fallback: bye", "fallback: byebye")
    assert error_of(text) == "t.yaml:11: flows.main.nodes.menu.fallback: unknown node 'byebye'"


def test_unknown_menu_choice_target() -> None:
    text = BASE.replace('{"1": to_sales}', '{"1": to_sales, "2": to_billing}')
    assert error_of(text) == "t.yaml:10: flows.main.nodes.menu.choices.2: unknown node 'to_billing'"


def test_menu_choice_that_is_not_one_dtmf_key() -> None:
    text = BASE.replace('{"1": to_sales}', '{"12": to_sales}')
    assert error_of(text) == (
        "t.yaml:10: flows.main.nodes.menu.choices: Value error, "
        "choice keys must be one DTMF key (0-9 * # A-D), not ['12']"
    )


def test_menu_choice_keys_repeated_in_another_case() -> None:
    text = BASE.replace('{"1": to_sales}', "{a: to_sales, A: bye}")
    assert error_of(text) == (
        "t.yaml:10: flows.main.nodes.menu.choices: Value error, "
        "choice keys repeat (a and A are the same key)"
    )


def test_unquoted_integer_choice_keys_are_accepted() -> None:
    text = BASE.replace('{"1": to_sales}', "{1: to_sales, 0: bye}")
    menu = load_flows_text(text, "t", queues=QUEUES, prompts=PROMPTS).flow("main").nodes["menu"]
    assert isinstance(menu, MenuNode) and menu.choices == {"1": "to_sales", "0": "bye"}


def test_unknown_queue() -> None:
    text = BASE.replace("queue: sales", "queue: billing")
    assert error_of(text) == (
        "t.yaml:12: flows.main.nodes.to_sales.queue: "
        "unknown queue 'billing' (queues: sales, support)"
    )


def test_queues_are_not_checked_without_a_queue_list() -> None:
    text = BASE.replace("queue: sales", "queue: billing")
    assert load_flows_text(text, "t", prompts=PROMPTS).names() == ["main"]


def test_unknown_callback_queue() -> None:
    assert error_of(with_node("      cb: {type: callback, queue: sails}")) == (
        "t.yaml:14: flows.main.nodes.cb.queue: unknown queue 'sails' (queues: sales, support)"
    )


def test_unknown_prompt() -> None:
    text = BASE.replace("prompts: goodbye", "prompts: [goodbye, farewell]")
    assert error_of(text) == (
        "t.yaml:13: flows.main.nodes.bye.prompts[1]: "
        "unknown prompt 'farewell' (not in the catalogue)"
    )


def test_unknown_invalid_prompt() -> None:
    text = BASE.replace("fallback: bye", "fallback: bye\n        invalid_prompts: oops")
    assert error_of(text) == (
        "t.yaml:12: flows.main.nodes.menu.invalid_prompts[0]: "
        "unknown prompt 'oops' (not in the catalogue)"
    )


def test_prompts_are_checked_against_the_catalogue_by_default() -> None:
    text = BASE.replace("prompts: goodbye", "prompts: no_such_prompt")
    with pytest.raises(FlowError, match="unknown prompt 'no_such_prompt'"):
        load_flows_text(text, "t.yaml")
    assert load_flows_text(BASE, "t.yaml").names() == ["main"]  # catalogue names pass


def test_play_needs_at_least_one_prompt() -> None:
    assert error_of(with_node("      p: {type: play, prompts: [], next: bye}")) == (
        "t.yaml:14: flows.main.nodes.p.prompts: "
        "Tuple should have at least 1 item after validation, not 0"
    )


def test_collect_max_below_min() -> None:
    node = (
        "      acct: {type: collect, into: acct, min_digits: 6, max_digits: 4,"
        " next: bye, fallback: bye}"
    )
    assert error_of(with_node(node)) == (
        "t.yaml:14: flows.main.nodes.acct: Value error, max_digits 4 < min_digits 6"
    )


def test_collect_terminator_must_not_be_a_digit() -> None:
    node = "      acct: {type: collect, into: acct, terminator: '5', next: bye, fallback: bye}"
    assert error_of(with_node(node)) == (
        "t.yaml:14: flows.main.nodes.acct: Value error, terminator '5' must be one of * # A B C D"
    )


def test_collect_defaults() -> None:
    node = "      acct: {type: collect, into: acct, next: bye, fallback: bye}"
    flows = load_flows_text(with_node(node), "t", queues=QUEUES, prompts=PROMPTS)
    acct = flows.flow("main").nodes["acct"]
    assert isinstance(acct, CollectNode)
    assert (acct.terminator, acct.first_digit_timeout_s, acct.inter_digit_timeout_s) == (
        "#",
        5.0,
        3.0,
    )


def test_timeouts_must_be_positive() -> None:
    text = BASE.replace("fallback: bye", "fallback: bye\n        timeout_s: 0")
    assert error_of(text) == (
        "t.yaml:12: flows.main.nodes.menu.timeout_s: Input should be greater than 0"
    )


def test_branch_on_something_unknown() -> None:
    node = "      b: {type: branch, by: caller.tier, cases: {gold: bye}, default: bye}"
    assert error_of(with_node(node)).startswith(
        "t.yaml:14: flows.main.nodes.b.by: String should match pattern"
    )


def test_branch_case_to_unknown_node() -> None:
    node = "      b: {type: branch, by: customer.tier, cases: {gold: vip}, default: bye}"
    assert (
        error_of(with_node(node)) == "t.yaml:14: flows.main.nodes.b.cases.gold: unknown node 'vip'"
    )


def test_branch_default_to_unknown_node() -> None:
    node = "      b: {type: branch, by: customer.tier, cases: {gold: bye}, default: menuu}"
    assert (
        error_of(with_node(node)) == "t.yaml:14: flows.main.nodes.b.default: unknown node 'menuu'"
    )


def test_branch_case_keys_that_yaml_reads_as_booleans_are_text() -> None:
    node = "      b: {type: branch, by: contact.vip, cases: {yes: bye}, default: menu}"
    flows = load_flows_text(with_node(node), "t", queues=QUEUES, prompts=PROMPTS)
    branch = flows.flow("main").nodes["b"]
    assert isinstance(branch, BranchNode) and branch.cases == {"true": "bye"}


def test_a_key_yaml_reads_as_a_boolean_is_named() -> None:
    node = "      b: {type: branch, on: customer, cases: {known: bye}, default: menu}"
    assert (
        error_of(with_node(node))
        == "t.yaml:14: flows.main.nodes.b: key True is not text (quote it)"
    )


def test_split_needs_a_positive_weight() -> None:
    node = "      ab: {type: split, weights: {menu: 0, bye: 0}}"
    assert error_of(with_node(node)) == (
        "t.yaml:14: flows.main.nodes.ab: Value error, at least one weight must be positive"
    )


def test_split_to_unknown_node() -> None:
    node = "      ab: {type: split, weights: {menu: 1, nowhere: 1}}"
    assert error_of(with_node(node)) == (
        "t.yaml:14: flows.main.nodes.ab.weights.nowhere: unknown node 'nowhere'"
    )


def test_set_needs_text_values() -> None:
    node = "      s: {type: set, attributes: {lang: [en, es]}, next: bye}"
    assert error_of(with_node(node)) == (
        "t.yaml:14: flows.main.nodes.s.attributes.lang: Input should be a valid string"
    )


def test_route_priority_range() -> None:
    text = BASE.replace("queue: sales}", "queue: sales, priority: 5000}")
    assert error_of(text) == (
        "t.yaml:12: flows.main.nodes.to_sales.priority: Input should be less than or equal to 1000"
    )


def test_limits_are_validated() -> None:
    assert error_of(BASE + "limits: {max_hops: 0}\n") == (
        "t.yaml:14: limits.max_hops: Input should be greater than or equal to 1"
    )


def test_a_node_that_is_not_a_mapping() -> None:
    assert error_of(with_node("      odd: play")) == (
        "t.yaml:14: flows.main.nodes.odd: a node must be a mapping with a 'type'"
    )


def test_entry_for_prefers_an_exact_dialed_user() -> None:
    text = BASE.replace('"*": main', '"*": main\n  "+18005550100": main')
    flows = load_flows_text(text, "t", queues=QUEUES, prompts=PROMPTS)
    assert flows.entry_for("+18005550100") == "main"
    assert flows.entry_for("") == "main"
    assert dict(flows.entries) == {"*": "main", "+18005550100": "main"}
