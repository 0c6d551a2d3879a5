"""PyJWT (Debian python3-jwt), used as its README and docs show:
jwt.encode(payload, key, algorithm=..., headers=...) with the HMAC secret
as the string itself and PEM keys as text, datetime iat/exp (PyJWT turns
them into integers); jwt.decode(token, key, algorithms=[...], audience=...,
issuer=...); a JWKS through jwt.PyJWKSet or jwt.PyJWKClient. PyJWT has no
JWE and makes no keys (banks make them with cryptography or openssl)."""
import time

import jwt

from common import Unsupported, b64url_decode, payload, read_text, utcnow

ALGORITHMS = {"HS256", "RS256", "PS256", "ES256", "EdDSA"}


def _check(job):
    if job["alg"] not in ALGORITHMS:
        raise Unsupported("PyJWT has no " + job["alg"])
    if job.get("jwe"):
        raise Unsupported("PyJWT has no JWE")


def _signing_key(k):
    if k["kind"] == "none":
        return None  # algorithm "none": an unsecured token
    if k["kind"] == "secret":
        return k["secret"]
    if k["kind"] == "secret_b64url":
        return b64url_decode(k["secret"])
    if k["kind"] == "pkcs8_file":
        return read_text(k["path"])
    raise Unsupported("PyJWT cannot use key kind " + k["kind"])


def sign(job):
    if job["alg"] != "none":
        _check(job)
    # time.time() is what many a backend passes; PyJWT keeps the fraction.
    now = time.time() if job.get("fractional_dates") else utcnow()
    headers = {}
    if job.get("kid"):
        headers["kid"] = job["kid"]
    if job.get("typ"):
        headers["typ"] = job["typ"]
    token = jwt.encode(payload(job, now), _signing_key(job["key"]), algorithm=job["alg"], headers=headers or None)
    return {"token": token}


def _verification_key(job):
    k = job["key"]
    if k["kind"] == "secret":
        return k["secret"]
    if k["kind"] == "secret_b64url":
        return b64url_decode(k["secret"])
    if k["kind"] == "spki_file":
        return read_text(k["path"])
    if k["kind"] == "jwks_file":
        jwks = jwt.PyJWKSet.from_json(read_text(k["path"]))
        return jwks[jwt.get_unverified_header(job["token"]).get("kid")].key
    if k["kind"] == "jwks_url":
        return jwt.PyJWKClient(k["url"]).get_signing_key_from_jwt(job["token"]).key
    raise Unsupported("PyJWT cannot use key kind " + k["kind"])


def verify(job):
    _check(job)
    e = job["expect"]
    claims = jwt.decode(job["token"], _verification_key(job), algorithms=[job["alg"]], audience=e["aud"], issuer=e["iss"])
    return {"claims": claims, "header": jwt.get_unverified_header(job["token"])}
