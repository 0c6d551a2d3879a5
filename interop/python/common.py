"""What the library modules share with the driver."""
import base64
import datetime
import json
import time
import urllib.request


class Unsupported(Exception):
    """A job the library cannot do (an algorithm, JWE, JWKS)."""


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def fetch_json(url):
    """A JWKS URL, fetched as a bank or chat developer would with the
    standard library when the JWT library has no fetcher of its own."""
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def payload(job, now_seconds):
    """The token's claims: the job's iss, aud, sub, jti and
    customer_secret_data, with iat and exp from now_seconds (a number, or
    a datetime for the libraries whose README passes one)."""
    c = job["claims"]
    p = {"iss": c["iss"], "aud": c["aud"], "sub": c["sub"], "jti": c["jti"]}
    if job.get("data_top_level"):
        p.update(c["customer_secret_data"])
    else:
        p["customer_secret_data"] = c["customer_secret_data"]
    p["iat"] = now_seconds
    if isinstance(now_seconds, datetime.datetime):
        p["exp"] = now_seconds + datetime.timedelta(seconds=job["lifetime"])
    else:
        p["exp"] = now_seconds + job["lifetime"]
    return p


def utcnow():
    return datetime.datetime.now(tz=datetime.timezone.utc)


def int_now():
    return int(time.time())
