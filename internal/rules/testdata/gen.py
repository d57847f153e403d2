#!/usr/bin/python3
"""Regenerate the reference vectors in this directory from in-toto-python itself.

Run with the Debian in-toto 1.3.1 package (apt-get install -y in-toto) and its Python 3.11:

    /usr/bin/python3 internal/rules/testdata/gen.py internal/rules/testdata

It writes:
  fnmatch.json       pattern x name -> fnmatch.fnmatchcase verdict (the matcher artifact rules use)
  parse.json         rule -> whether in_toto.rulelib.unpack_rule accepts it
  python-rules.json  verify_item_rules scenarios (hand-written and seeded random): the sorted queue
                     after every rule, and the refusal if any ("disallow"/"require"), or "crash"
                     when python itself raises something else (KeyError).
"""
import fnmatch
import json
import os
import random
import sys
import types

import securesystemslib.exceptions
import in_toto.rulelib as rulelib
import in_toto.verifylib as verifylib
from in_toto.exceptions import RuleVerificationError

OUT = sys.argv[1] if len(sys.argv) > 1 else "."

PATTERNS = [
    "", "*", "**", "?", "??", "a", "a*", "*a", "a*b", "*a*b*", "*a*", "a?c", "*.go", "src/*",
    "src/*.go", "*/*", "foo/*/bar", "*.[ch]", "[abc]", "[!abc]", "[a-c]x", "[a-c]", "[]]", "[!]]",
    "[]-a]", "[b-a]", "[b-a!]", "[!b-a]", "[c-a!x]", "[a-]", "[-a]", "[!-a]", "a[b", "[", "]", "[!]",
    "[^a]", "[!^a]", "\\*", "a\\b", "[\\]", "[\\-a]", "[a-cx-z]", "[z-a-c]", "[a-c-e]", "[--/]",
    "[!a-c-e]", "[[]", "[[]]", "[a&&b]", "[a~~b]", "[a||b]", "[&]", "é*", "[é-ë]", "*\n*", "[!]a]",
    "[]a]", "[a-a]", "[!a-a]", "[x-]", "[!x-]", "[---]", "[!--]", "[a-b-c-d]", "[d-c-b-a]", "*[!/]",
    "*/", "/*", "[/]", "a/**/b", "*?*", "?*?", "*b?", "[!a]*[!b]", "[[:alpha:]]", "[:a:]",
    "a*a*a*b", "[*]", "[?]", "[!*]",
]
NAMES = [
    "", "a", "b", "c", "x", "ab", "abc", "aXbYb", "abcb", "a/b", "a/c", "src/a.go", "src/x/y.go",
    "]", "[", "-", "!", "^", "\\", "a\\b", "*", "?", "é", "ê", "ë", "\n", "a\nb", "foo/x/bar",
    "foo/x/y/bar", "x.c", "x.h", "&", "~", "|", "/", ".", "ax", "dx", "aaab", "a[b", "[]", ":",
    "a/", "/a", "ba", "bb", "d", "e", ".", ",", "aa",
]


def write(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        # One case per line: small and diffable.
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                                    for c in obj) + "\n]\n")


def gen_fnmatch():
    cases = []
    for p in PATTERNS:
        for n in NAMES:
            cases.append({"pattern": p, "name": n, "match": fnmatch.fnmatchcase(n, p)})
    write("fnmatch.json", cases)


PARSE_RULES = [
    [], ["ALLOW"], ["ALLOW", "*"], ["allow", "*"], ["AlLoW", "*"], ["ALLOW", "*", "x"], ["DISALLOW", "a"],
    ["REQUIRE", "a"], ["REQUIRE", "a", "b"], ["CREATE", "a"], ["DELETE", "a"], ["MODIFY", "a"],
    ["FOO", "a"], ["MATCH", "*"], ["MATCH", "*", "WITH", "PRODUCTS", "FROM", "x"],
    ["match", "*", "with", "products", "from", "x"], ["MATCH", "*", "WITH", "ARTIFACTS", "FROM", "x"],
    ["MATCH", "*", "IN", "s", "WITH", "MATERIALS", "FROM", "x"],
    ["MATCH", "*", "WITH", "MATERIALS", "IN", "d", "FROM", "x"],
    ["MATCH", "*", "IN", "s", "WITH", "MATERIALS", "IN", "d", "FROM", "x"],
    ["MATCH", "*", "IN", "s", "WITH", "MATERIALS", "IN", "d", "FROM"],
    ["MATCH", "*", "WITH", "PRODUCTS", "FROM"], ["MATCH", "*", "FROM", "x", "WITH", "PRODUCTS"],
    ["MATCH", "*", "WITH", "PRODUCTS", "IN", "d", "IN", "x"], ["MATCH", "IN", "WITH", "PRODUCTS", "FROM", "x"],
    ["MATCH", "*", "IN", "with", "WITH", "in", "FROM", "x"], ["MATCH", "*", "WITH", "PRODUCTS", "FROM", ""],
    ["MATCH", "*", "WITH", "PRODUCTS", "FROM", "x", "y"], ["MATCH", "*", "İN", "s", "WITH", "PRODUCTS", "FROM", "x"],
    ["MATCH", "*", "WITH", "PRODUCTſ", "FROM", "x"], ["ALLOW", ""], ["", "*"], ["ALLOW "," *"],
    ["MATCH", "*", "WITH", "products", "IN", "", "FROM", "x"],
]


def gen_parse():
    cases = []
    for r in PARSE_RULES:
        try:
            rulelib.unpack_rule(r)
            ok = True
        except securesystemslib.exceptions.FormatError:
            ok = False
        cases.append({"rule": r, "ok": ok})
    write("parse.json", cases)


def link(materials, products):
    return types.SimpleNamespace(signed=types.SimpleNamespace(materials=materials, products=products))


def run_case(case):
    links = {name: link(l["materials"], l["products"]) for name, l in case["links"].items()}
    links[case["step"]] = link(case["materials"], case["products"])
    out = {"queues": [], "refused": ""}
    try:
        verifylib.verify_item_rules(case["step"], case["kind"], case["rules"], links)
    except RuleVerificationError as e:
        out["refused"] = "require" if str(e).startswith("'REQUIRE") else "disallow"
    except Exception as e:  # python's own crash, e.g. KeyError on backslash paths
        out["refused"] = "crash"
        out["crash"] = repr(e)
    out["queues"] = [sorted(t["queue"]) for t in verifylib.RULE_TRACE.get("trace", [])]
    case["want"] = out
    return case


H1, H2, H3 = {"sha256": "aa"}, {"sha256": "bb"}, {"sha256": "aa", "sha512": "cc"}

HAND = [
    # name, kind, rules, materials, products, links
    ("allow-disallow", "products", [["ALLOW", "*.go"], ["DISALLOW", "*"]], {}, {"a.go": H1, "b.c": H1}, {}),
    ("allow-all-disallow", "products", [["ALLOW", "*"], ["DISALLOW", "*"]], {}, {"a.go": H1, "x/b.c": H1}, {}),
    ("star-crosses-slash", "products", [["ALLOW", "src/*"], ["DISALLOW", "*"]], {}, {"src/a/b/c": H1}, {}),
    ("require-ok", "products", [["REQUIRE", "a"]], {}, {"a": H1}, {}),
    ("require-literal", "products", [["REQUIRE", "*"]], {}, {"a": H1}, {}),
    ("require-consumed", "products", [["ALLOW", "a"], ["REQUIRE", "a"]], {}, {"a": H1}, {}),
    ("create", "products", [["CREATE", "*"], ["DISALLOW", "*"]], {"old": H1}, {"old": H1, "new": H1}, {}),
    ("create-in-materials", "materials", [["CREATE", "*"], ["DISALLOW", "*"]], {"a": H1}, {"a": H1, "b": H1}, {}),
    ("delete", "materials", [["DELETE", "*"], ["DISALLOW", "*"]], {"gone": H1, "kept": H1}, {"kept": H1}, {}),
    ("delete-in-products", "products", [["DELETE", "*"]], {"gone": H1}, {"kept": H1}, {}),
    ("modify", "products", [["MODIFY", "*"], ["DISALLOW", "*"]], {"m": H1, "s": H1}, {"m": H2, "s": H1}, {}),
    ("modify-extra-algorithm", "products", [["MODIFY", "*"]], {"m": H1}, {"m": H3}, {}),
    ("modify-materials", "materials", [["MODIFY", "*"]], {"m": H1, "s": H1}, {"m": H2, "s": H1}, {}),
    ("match-basic", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "*"]],
     {"a": H1, "b": H1}, {}, {"build": {"materials": {}, "products": {"a": H1, "b": H2}}}),
    ("match-missing-step", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "nope"], ["DISALLOW", "*"]],
     {"a": H1}, {}, {}),
    ("match-missing-artifact", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"]],
     {"a": H1, "b": H1}, {}, {"build": {"materials": {}, "products": {"a": H1}}}),
    ("match-extra-algorithm", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"]],
     {"a": H1, "b": H3}, {}, {"build": {"materials": {}, "products": {"a": H3, "b": H3}}}),
    ("match-src-prefix", "materials", [["MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "FROM", "build"]],
     {"src/a": H1, "a": H1, "srcx/a": H1}, {}, {"build": {"materials": {}, "products": {"a": H1}}}),
    ("match-src-prefix-slash", "materials", [["MATCH", "*", "IN", "src/", "WITH", "PRODUCTS", "FROM", "build"]],
     {"src/a": H1, "a": H1}, {}, {"build": {"materials": {}, "products": {"a": H1}}}),
    ("match-dst-prefix", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"]],
     {"a": H1, "b": H1}, {}, {"build": {"materials": {}, "products": {"out/a": H1, "b": H1}}}),
    ("match-dst-prefix-slash", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "IN", "out/", "FROM", "build"]],
     {"a": H1}, {}, {"build": {"materials": {}, "products": {"out/a": H1, "out//a": H1}}}),
    ("match-both-prefixes", "products", [["MATCH", "*.go", "IN", "src", "WITH", "MATERIALS", "IN", "vendor/x", "FROM", "fetch"]],
     {}, {"src/a.go": H1, "src/b.go": H2, "src/c.txt": H1}, {"fetch": {"materials": {"vendor/x/a.go": H1, "vendor/x/b.go": H1, "vendor/x/c.txt": H1}, "products": {}}}),
    ("match-prefix-not-glob", "materials", [["MATCH", "*", "IN", "s*", "WITH", "PRODUCTS", "FROM", "build"]],
     {"s*/a": H1, "sx/a": H1}, {}, {"build": {"materials": {}, "products": {"a": H1}}}),
    ("match-self", "products", [["MATCH", "*", "WITH", "MATERIALS", "FROM", "self"]],
     {"a": H1, "b": H1}, {"a": H1, "b": H2}, {}),
    ("match-hash-mismatch", "products", [["MATCH", "foo", "WITH", "PRODUCTS", "FROM", "build"], ["DISALLOW", "foo"]],
     {}, {"foo": H1}, {"build": {"materials": {}, "products": {"foo": H2}}}),
    ("match-backslash-src", "materials", [["MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "FROM", "build"]],
     {"src/a\\b": H1, "src/a/b": H1}, {}, {"build": {"materials": {}, "products": {"a\\b": H1, "a/b": H1}}}),
    ("match-backslash-dst", "materials", [["MATCH", "*", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"]],
     {"a\\b": H1}, {}, {"build": {"materials": {}, "products": {"out/a/b": H1}}}),
    ("match-backslash-prefix", "materials", [["MATCH", "*", "IN", "s\\t", "WITH", "PRODUCTS", "FROM", "build"]],
     {"s/t/a": H1, "s\\t/a": H1}, {}, {"build": {"materials": {}, "products": {"a": H1}}}),
    ("match-double-slash", "materials", [["MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "IN", "out", "FROM", "build"]],
     {"src//a": H1, "src/b": H1}, {}, {"build": {"materials": {}, "products": {"/a": H1, "out/b": H1}}}),
    ("keywords-lowercase", "products", [["allow", "a"], ["disallow", "*"]], {}, {"a": H1}, {}),
    ("disallow-none-left", "products", [["ALLOW", "*"], ["DISALLOW", "*"]], {}, {}, {}),
    ("implicit-allow", "products", [["ALLOW", "a"]], {}, {"a": H1, "b": H1}, {}),
    ("no-rules", "products", [], {}, {"a": H1}, {}),
    ("class-negation", "products", [["ALLOW", "[!b]*"], ["DISALLOW", "*"]], {}, {"a1": H1, "b1": H1}, {}),
]

NAME_POOL = ["a", "b", "c", "a.go", "b.go", "src/a", "src/b", "src/a.go", "src/x/b.go", "out/a", "out/b",
             "out/src/a", "lib/a", "lib/b.go", "src/", "a b", "é", "src\\a", "/a", "src//a", "x/y/z"]
DIGESTS = [{"sha256": "aa"}, {"sha256": "bb"}, {"sha256": "aa", "sha512": "cc"}, {"sha512": "cc"}]
PATS = ["*", "*.go", "a", "b", "src/*", "*/*", "?", "[ab]", "[!a]*", "src/*.go", "out/*", "a*", "*a", "x*",
        "é", "*b*", "[a-b].go"]
PREFIXES = ["", "", "", "src", "src/", "out", "lib", "out/src", "s\\rc"]


def rand_artifacts(rng):
    return {n: rng.choice(DIGESTS) for n in rng.sample(NAME_POOL, rng.randint(0, 8))}


def rand_rule(rng, steps):
    t = rng.choice(["MATCH", "MATCH", "MATCH", "ALLOW", "DISALLOW", "REQUIRE", "CREATE", "DELETE", "MODIFY"])
    if t == "REQUIRE":
        return [t, rng.choice(NAME_POOL + ["*"])]
    if t != "MATCH":
        return [rng.choice([t, t.lower()]), rng.choice(PATS)]
    r = ["MATCH", rng.choice(PATS)]
    sp, dp = rng.choice(PREFIXES), rng.choice(PREFIXES)
    if sp:
        r += ["IN", sp]
    r += ["WITH", rng.choice(["MATERIALS", "PRODUCTS", "products"])]
    if dp:
        r += ["IN", dp]
    return r + ["FROM", rng.choice(steps)]


def gen_rules():
    cases = []
    for name, kind, rules, m, p, links in HAND:
        cases.append(run_case({"name": name, "step": "self", "kind": kind, "rules": rules,
                               "materials": m, "products": p, "links": links}))
    rng = random.Random(20240601)
    for i in range(400):
        steps = ["build", "test", "self", "missing"]
        links = {s: {"materials": rand_artifacts(rng), "products": rand_artifacts(rng)} for s in ["build", "test"]}
        rules = [rand_rule(rng, steps) for _ in range(rng.randint(0, 5))]
        if rng.random() < 0.5:
            rules.append(["DISALLOW", "*"])
        cases.append(run_case({"name": "random-%03d" % i, "step": "self", "kind": rng.choice(["materials", "products"]),
                               "rules": rules, "materials": rand_artifacts(rng), "products": rand_artifacts(rng),
                               "links": links}))
    write("python-rules.json", cases)


if __name__ == "__main__":
    gen_fnmatch()
    gen_parse()
    gen_rules()
