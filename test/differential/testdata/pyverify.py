#!/usr/bin/python3
"""Verify many in-toto supply chains with in-toto-python 1.3.1 in one process.

Reads one JSON object per line on stdin: {"dir": DIR, "keys": {KEYID: KEY}} where DIR holds
root.layout and the links, and KEYS are the layout owners' public keys (securesystemslib dicts).
Writes one JSON object per line: {"verdict": "pass" | "refuse" | "crash", "error": CLASS, "message": …}.
"refuse" is an in-toto or securesystemslib verification error; "crash" is anything else (a python bug).
Used by differential_test.go; run with the Debian package's interpreter (/usr/bin/python3).
"""
import json
import logging
import sys

import securesystemslib.exceptions
import in_toto.exceptions
import in_toto.verifylib as verifylib
from in_toto.models.metadata import Metablock

logging.disable(logging.CRITICAL)

REFUSALS = (in_toto.exceptions.Error, securesystemslib.exceptions.Error)

for line in sys.stdin:
    req = json.loads(line)
    out = {"verdict": "pass"}
    try:
        layout = Metablock.load(req["dir"] + "/root.layout")
        verifylib.in_toto_verify(layout, req["keys"], link_dir_path=req["dir"])
    except REFUSALS as e:
        out = {"verdict": "refuse", "error": type(e).__name__, "message": str(e)[:300]}
    except Exception as e:  # noqa: BLE001 - a python crash is a result here
        out = {"verdict": "crash", "error": type(e).__name__, "message": repr(e)[:300]}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
