// Package rules is the in-toto artifact-rule engine.
//
// It applies the expected_materials or expected_products rules of one step or inspection to
// that item's artifacts, with the semantics of in-toto-python (the reference implementation,
// in_toto/verifylib.py verify_item_rules and in_toto/rulelib.py unpack_rule):
//
//   - The queue starts as the names of the item's materials (or products). Rules run in
//     order; MATCH, CREATE, DELETE, MODIFY and ALLOW remove ("consume") names from the queue,
//     DISALLOW refuses if any queued name matches, REQUIRE refuses if its literal name is not
//     queued. Whatever is left after the last rule is accepted (the implicit final ALLOW *).
//   - Keywords are case-insensitive (ASCII); patterns, prefixes and step names are not.
//   - Patterns follow Python's fnmatch on POSIX: '*' matches any run of characters including
//     '/', '?' any one character, '[seq]' and '[!seq]' character classes; there is no escape
//     character. See Glob.
//   - MATCH pattern [IN src] WITH MATERIALS|PRODUCTS [IN dst] FROM step consumes a queued name
//     src/path whose path matches the pattern when dst/path exists in the named step's
//     materials or products with exactly the same digests (all algorithms, as a dict
//     comparison). A step without evidence consumes nothing. Only names under src/ are
//     considered (in-toto-golang also consumes un-prefixed names; that is a golang bug).
//
// Where python has no defined behaviour this package chooses, and says so:
//
//   - Rules are parsed before any is applied; an invalid rule is a *ParseError, not a refusal
//     (python rejects such a layout when it loads it).
//   - With a source prefix, python looks the source artifact up again under
//     os.path.join(prefix, path) with backslashes rewritten to '/', which for a path starting
//     with '/' or containing '\' is another name: python then consumes that other name, or
//     crashes with KeyError. Verify consumes the other name too, and in the KeyError case
//     consumes nothing (the artifact stays queued for a later DISALLOW).
//   - A MATCH FROM the item's own name uses the item when links lacks it.
//
// Everything here is pure and deterministic: no I/O, no global state, no goroutines.
// Verify is also the function the differential tests compare with the peers.
package rules
