#!/usr/bin/env python3
"""An independent SIGILLUM-HMAC-SHA256 client: only the Python standard library and the README.

It shares no code with the server, so a request it signs successfully proves that the README's
description of the scheme is what the server implements.

usage: hmac_client.py URL METHOD PATH [--query Q] [--body JSON] [--key-id ID --secret S]
                      [--timestamp T] [--nonce N] [--send-body JSON] [--send-query Q]
--send-body / --send-query send something other than what was signed (tamper tests).
Prints the HTTP status on the first line and the response body after it.
"""
import argparse
import hashlib
import hmac
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def canonical_query(query):
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        # Decode ('+' is a space), then encode everything but RFC 3986 unreserved.
        enc = lambda s: urllib.parse.quote(urllib.parse.unquote_to_bytes(s.replace("+", " ")), safe="-._~")
        pairs.append((enc(name), enc(value)))
    pairs.sort()
    return "&".join(f"{n}={v}" for n, v in pairs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("--query", default="")
    p.add_argument("--body", default="")
    p.add_argument("--key-id", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--timestamp", type=int, default=None)
    p.add_argument("--nonce", default=None)
    p.add_argument("--send-body", default=None)
    p.add_argument("--send-query", default=None)
    a = p.parse_args()

    timestamp = a.timestamp if a.timestamp is not None else int(time.time())
    nonce = a.nonce or secrets.token_urlsafe(18)
    body = a.body.encode()
    string_to_sign = "\n".join([
        "SIGILLUM-HMAC-SHA256",
        str(timestamp),
        nonce,
        a.method.upper(),
        a.path,
        canonical_query(a.query),
        hashlib.sha256(body).hexdigest(),
    ])
    signature = hmac.new(a.secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    header = (f"SIGILLUM-HMAC-SHA256 KeyId={a.key_id}, Timestamp={timestamp}, "
              f"Nonce={nonce}, Signature={signature}")

    sent_body = (a.send_body if a.send_body is not None else a.body).encode()
    sent_query = a.send_query if a.send_query is not None else a.query
    url = a.url + a.path + (("?" + sent_query) if sent_query else "")
    req = urllib.request.Request(url, data=sent_body if sent_body else None, method=a.method.upper())
    req.add_header("Authorization", header)
    if sent_body:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            status, payload, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, payload, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    print(status)
    print(ctype)
    sys.stdout.write(payload.decode())


if __name__ == "__main__":
    main()
