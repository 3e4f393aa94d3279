"""The caches of name-addrs without their tag and Vias without their branch give
exactly what the full parsers give: the same value, or the same error."""

from __future__ import annotations

import random

import pytest

from ivr.sip.errors import SipParseError
from ivr.sip.values import (
    _parse_name_addr,
    _parse_via_text,
    _spliceable,
    parse_name_addr,
    parse_via,
)

NAME_ADDRS = [
    "sipp <sip:+447700900456@127.0.0.1:5070>;tag=1SIPpTag00",
    '"A" <sip:a@b>;tag=x-1.2',
    "<sip:a@b> ;tag=x",
    "<sip:a@b>;foo ;tag=x",
    "<sip:a@b>;foo= ;tag=x",
    '<sip:a@b>;foo="a;b";tag=x',
    "<sip:a@b>;tag=1;tag=2",
    "<sip:a@b>;TAG=1;tag=2",
    "sip:a@b;tag=x",
    "sip:a@b;foo;tag=x",
    "sip:a@b ;tag=x",
    "  <sip:a@b>;tag=x",
    '"x;tag=y" <sip:a@b>;tag=z',
    '"x;tag=y" <sip:a@b>',
    "<sip:a;tag=x>",
    "<sip:a@b>;tag=x ",
    "<sip:a@b>;tag=",
    ";tag=x",
    " ;tag=x",
    "*;tag=x",
    " * ;tag=x",
    "<sip:a@b>;;tag=x",
    "<sip:a@b>; ;tag=x",
    "<sip:a@b> <x>;tag=y",
    '<sip:a@b>;x="open;tag=y',
    '"open <sip:a@b>;tag=y',
    "<sip:a@b;tag=y",
    "nourl;tag=y",
    "sip:a b;tag=y",
    '<sip:a@b>;tag=a"b',
    "<sip:a@b>;tag=a>b",
]


def full_name_addr(value: str) -> object:
    try:
        return _parse_name_addr(value)
    except SipParseError as exc:
        return ("error", exc.status, exc.detail)


def cached_name_addr(value: str) -> object:
    try:
        return parse_name_addr(value)
    except SipParseError as exc:
        return ("error", exc.status, exc.detail)


@pytest.mark.parametrize("value", NAME_ADDRS)
def test_a_tagged_name_addr_is_its_full_parse(value: str) -> None:
    first = cached_name_addr(value)  # the part before the tag parsed and cached
    assert first == full_name_addr(value)
    assert cached_name_addr(value) == first  # the whole value from the cache
    other = value.replace("tag=", "tag=Q") if "tag=" in value else value
    assert cached_name_addr(other) == full_name_addr(other)  # a new tag on a cached part


def test_a_new_tag_reuses_the_parsed_rest() -> None:
    a = parse_name_addr("Bob <sip:bob@example.com;transport=udp>;x=1;tag=aaa")
    b = parse_name_addr("Bob <sip:bob@example.com;transport=udp>;x=1;tag=bbb")
    assert a.tag == "aaa" and b.tag == "bbb"
    assert a.params == (("x", "1"), ("tag", "aaa")) and b.uri == a.uri


VIAS = [
    "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1-0",
    "SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK.1;received=x",
    "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa;rport",
    "SIP/2.0/TCP [::1]:5070;branch=z9hG4bKa",
    "SIP / 2.0 / UDP host;branch=z9hG4bKa",
    "sip/2.0/udp host;branch=z9hG4bKa",
    'SIP/2.0/UDP host;x="a;branch=b;c";branch=z9hG4bKa',
    'SIP/2.0/UDP host;x="a;branch=b;c"',
    "SIP/2.0/UDP host;branch=;branch=z9hG4bKa",
    "SIP/2.0/UDP host;branch=z9hG4bKa;branch=",
    "SIP/2.0;branch=abc;/UDP host; branch=",
    "SIP/2.0;branch=abc/UDP host;branch=z",
    "SIP/2.0/UDP;branch=abc host;branch=z",
    "SIP/2.0/UDP host ;branch=z9hG4bKa",
    "SIP/2.0/UDP host;branch=z9hG4bKa ",
    "SIP/2.0/UDP host;branch=z9 hG4bKa",
    "SIP/2.0/UDP host;;branch=z9hG4bKa",
    "SIP/2.0/UDP host;branch=z9hG4bKa;",
    "SIP/2.0/UDP host:99999;branch=z9hG4bKa",
    "SIP/2.0/UDP ;branch=z9hG4bKa",
    "SIP/3.0/UDP host;branch=z9hG4bKa",
    "SIP/2.0/UDP host;BRANCH=z9hG4bKa",
]


def full_via(value: str) -> object:
    try:
        return _parse_via_text(value)
    except SipParseError as exc:
        return ("error", exc.status, exc.detail)


def cached_via(value: str) -> object:
    try:
        return parse_via(value)
    except SipParseError as exc:
        return ("error", exc.status, exc.detail)


@pytest.mark.parametrize("value", VIAS)
def test_a_via_is_its_full_parse_whatever_its_branch(value: str) -> None:
    assert cached_via(value) == full_via(value)
    assert cached_via(value) == full_via(value)  # from the cache
    for branch in ("z9hG4bKnew", "1", "a.b-c"):
        other = value.replace("branch=z9hG4bKa", "branch=" + branch)
        assert cached_via(other) == full_via(other)


def test_random_name_addrs_and_vias_parse_as_the_full_parsers() -> None:
    rng = random.Random(7)
    alphabet = "<>\";=, \t\\sip:@ab*tagbranch/2.0UDP.!%*_+`'~-\xa0é"
    seeds = NAME_ADDRS + VIAS
    for _ in range(3000):
        text = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.5 and text:
                del text[min(at, len(text) - 1)]
            else:
                text.insert(at, rng.choice(alphabet))
        value = "".join(text)
        for suffix in ("", ";tag=t1", ";tag=t2", ";branch=b1", ";branch=b2"):
            assert cached_name_addr(value + suffix) == full_name_addr(value + suffix)
            assert cached_via(value + suffix) == full_via(value + suffix)


def test_what_can_be_spliced_back() -> None:
    assert _spliceable("z9hG4bK-1.2!%*_+`'~") and _spliceable("a b,c=d")
    for bad in ("", " a", "a\t", 'a"', "a;", "a>", "<a", "a\xa0"):
        assert not _spliceable(bad)
    # Each character read (`_spliceable` reads them one by one): at either end, inside.
    for bad in ('"a', ";a", "a<", ">a", "\xa0a", "a\u2028", 'ab"c', "ab;c", "ab<c", "ab>c"):
        assert not _spliceable(bad)
    assert _spliceable("a") and _spliceable("\xe9t\xe9") and _spliceable("a\tb")


def test_a_bare_star_cached_first_does_not_make_a_tagged_star_valid() -> None:
    # a REGISTER's "Contact: *" caches "*"; a From of "*;tag=x" must still be refused,
    # as the full parse refuses it (the order the suite first ran them in)
    assert cached_name_addr("*") == full_name_addr("*")
    assert cached_name_addr("*;tag=x") == full_name_addr("*;tag=x")
    assert isinstance(full_name_addr("*;tag=x"), tuple)  # an error, not an address
