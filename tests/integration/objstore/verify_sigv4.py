#!/usr/bin/python3
"""Independent check of the SigV4 signatures of recorded S3 requests (s3rver does not
verify V4 signatures): recomputes each signature with botocore's S3SigV4Auth from the
request as it went over the wire and compares it with the Authorization header.
Usage: verify_sigv4.py DIR ACCESS_KEY SECRET REGION
DIR holds N.head (request line + headers, CRLF) and N.body (the exact body) per request.
Prints one line per request; exit 1 when any signature differs."""
import hashlib
import os
import re
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

folder, access, secret, region = sys.argv[1:5]
failures = 0
names = sorted((f[:-5] for f in os.listdir(folder) if f.endswith(".head")), key=int)
for name in names:
    head = open(os.path.join(folder, name + ".head"), "rb").read().decode("latin-1")
    body = open(os.path.join(folder, name + ".body"), "rb").read()
    lines = head.split("\r\n")
    if os.environ.get("VERIFY_SIGV4_DEBUG"): print(head)
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    auth = headers["authorization"]
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
    if not m:
        print(f"{name} {method} {target}: unexpected Authorization {auth!r}")
        failures += 1
        continue
    signed = m.group(4).split(";")
    missing = [k for k in signed if k not in headers]
    if missing:
        print(f"{name} {method} {target}: signed headers not sent: {missing}")
        failures += 1
        continue
    token = headers.get("x-amz-security-token")
    request = AWSRequest(method=method, url="http://" + headers["host"] + target, data=body,
                         headers={k: headers[k] for k in signed if k != "host"})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = botocore.auth.S3SigV4Auth(Credentials(access, secret, token), "s3", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    problems = []
    if expected != m.group(5):
        problems.append("signature differs; botocore's canonical request:\n" + canonical)
    if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
        problems.append("x-amz-content-sha256 is not the SHA-256 of the body")
    if m.group(3) != region or m.group(1) != access:
        problems.append("wrong credential scope")
    if token is not None and "x-amz-security-token" not in signed:
        problems.append("session token not signed")
    print(f"{name} {method} {target}: " + ("ok" if not problems else "; ".join(problems)))
    failures += bool(problems)
sys.exit(1 if failures else 0)
