#!/usr/bin/env bash
# Documents, and regenerates for inspection, the interop vectors that test/conformance creates with the
# real peers. Nothing is persisted in the repository: the tests build these chains afresh in temp dirs
# on every run (go test ./test/conformance). Only the golden files under test/conformance/testdata/golden
# are kept; they come from intoto-ci itself (go test ./test/conformance -run Golden -update).
#
# Peers: in-toto-python 1.3.1 (apt-get install -y in-toto) and in-toto-golang v0.11.0
# (go install github.com/in-toto/in-toto-golang@v0.11.0; binary in-toto-golang).
#
# Usage: scripts/interop-vectors.sh OUTDIR   (writes OUTDIR/python and OUTDIR/golang and verifies both)
set -euo pipefail
out=${1:?usage: $0 OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
fx=$top/testdata/interop/in-toto-golang
export PATH="$(go env GOPATH)/bin:$PATH"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The demo chain of the tests: write-code creates foo.py; package tars it; the inspection untar checks it.
package_cmd=(tar --mtime=2020-01-01 --owner=0 --group=0 -czf foo.tar.gz foo.py)
layout_json() { # KEYS_JSON WRITE_CODE_ID PACKAGE_ID -> the layout document (rules as in harness_test.go)
  python3 - "$@" <<'EOF'
import json, sys, datetime
keys, wc, pk = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
exp = (datetime.datetime.utcnow() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
m = lambda *w: list(w)
print(json.dumps({"signed": {"_type": "layout", "expires": exp, "readme": "intoto-ci conformance chain", "keys": keys,
  "steps": [
    {"_type": "step", "name": "write-code", "threshold": 1, "pubkeys": [wc], "expected_command": [],
     "expected_materials": [], "expected_products": [m("CREATE", "foo.py"), m("DISALLOW", "*")]},
    {"_type": "step", "name": "package", "threshold": 1, "pubkeys": [pk],
     "expected_command": ["tar", "--mtime=2020-01-01", "--owner=0", "--group=0", "-czf", "foo.tar.gz", "foo.py"],
     "expected_materials": [m("MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"), m("DISALLOW", "*")],
     "expected_products": [m("CREATE", "foo.tar.gz"), m("ALLOW", "foo.py"), m("DISALLOW", "*")]}],
  "inspect": [{"_type": "inspection", "name": "untar", "run": ["tar", "xzf", "foo.tar.gz"],
     "expected_materials": [m("MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"), m("DISALLOW", "*")],
     "expected_products": [m("MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"),
                           m("MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"), m("DISALLOW", "*")]}]},
  "signatures": []}, indent=1))
EOF
}

# 1. in-toto-python 1.3.1: ed25519 owner, RSA and ECDSA functionaries, legacy envelope (TestPythonChainVerifies).
p=$out/python; rm -rf "$p"; mkdir -p "$p"/{keys,work,links,final}
(cd "$p/keys" && in-toto-keygen -t ed25519 alice && in-toto-keygen -t rsa bob && in-toto-keygen -t ecdsa carl) >/dev/null
echo "print('hello from the conformance chain')" >"$p/work/foo.py"
keys=$(cd "$p/keys" && /usr/bin/python3 -c '
import json
from securesystemslib.interface import import_publickeys_from_file
print(json.dumps(import_publickeys_from_file(["bob.pub", "carl.pub"], ["rsa", "ecdsa"])))')
read -r bob carl < <(python3 -c 'import json,sys; print(*json.loads(sys.argv[1]))' "$keys")
(cd "$p/work" && in-toto-run -n write-code -k ../keys/bob -t rsa -d ../links -x -p foo.py &&
  in-toto-run -n package -k ../keys/carl -t ecdsa -d ../links -m foo.py -p foo.py foo.tar.gz -- "${package_cmd[@]}")
cp "$p/work/foo.tar.gz" "$p/final/"
layout_json "$keys" "$bob" "$carl" >"$p/root.layout"
in-toto-sign -f "$p/root.layout" -k "$p/keys/alice" -t ed25519
(cd "$p/final" && in-toto-verify -l ../root.layout -k ../keys/alice.pub -t ed25519 --link-dir ../links)
echo "python chain: $p (verified by in-toto-verify)"

# 2. in-toto-golang v0.11.0: its test keys alice (RSA owner), carol (ed25519), frank (ECDSA); add
#    --use-dsse to the two runs for the DSSE variant (TestGolangChainVerifies).
g=$out/golang; rm -rf "$g"; mkdir -p "$g"/{keys,work,links,final}
cp "$fx"/{alice,alice.pub,carol,carol.pub,frank,frank.pub} "$g/keys/"
echo "print('hello from the conformance chain')" >"$g/work/foo.py"
obj() { in-toto-golang key layout "$1" | sed 's/^[^:]*: //'; }
id() { in-toto-golang key id "$1"; }
keys="{\"$(id "$g/keys/carol.pub")\": $(obj "$g/keys/carol.pub"), \"$(id "$g/keys/frank.pub")\": $(obj "$g/keys/frank.pub")}"
(cd "$g/work" && in-toto-golang run -n write-code -k ../keys/carol -d ../links -x -p foo.py &&
  in-toto-golang run -n package -k ../keys/frank -d ../links -m foo.py -p foo.py -p foo.tar.gz -- "${package_cmd[@]}")
cp "$g/work/foo.tar.gz" "$g/final/"
layout_json "$keys" "$(id "$g/keys/carol.pub")" "$(id "$g/keys/frank.pub")" >"$g/root.layout"
in-toto-golang sign -f "$g/root.layout" -k "$g/keys/alice" -o "$g/root.layout"
(cd "$g/final" && in-toto-golang verify -l ../root.layout -k ../keys/alice.pub -d ../links)
echo "golang chain: $g (verified by in-toto-golang)"

# 3. The chains made by intoto-ci (TestIntotoChain*) use `intoto-ci key generate --type ed25519`,
#    `intoto-ci run --envelope legacy|dsse`, `intoto-ci sign --envelope legacy|dsse`; python 1.3.1 gets
#    the owner's key as securesystemslib JSON ({keytype, scheme, keyid_hash_algorithms, keyval}).
#    Verify the two chains above with intoto-ci too:
if command -v intoto-ci >/dev/null; then
  (cd "$p/final" && rm -f foo.py && intoto-ci verify --layout ../root.layout --layout-key ../keys/alice.pub --links-dir ../links)
  (cd "$g/final" && rm -f foo.py untar.link && intoto-ci verify --layout ../root.layout --layout-key ../keys/alice.pub --links-dir ../links)
fi
