"""python-jose (Debian python3-jose, cryptography backend), used as its
README and docs show: jwt.encode(claims, key, algorithm=..., headers=...)
with the HMAC secret as the string itself, PEM keys as text and datetime
iat/exp; jwt.decode(token, key, algorithms=[...], audience=..., issuer=...),
where key may also be a JWKS as a dict; jwe.encrypt/jwe.decrypt for JWE.
python-jose has no PS256 and no EdDSA."""
import json

from jose import jwe, jwt

from common import Unsupported, b64url_decode, fetch_json, payload, read_text, utcnow

ALGORITHMS = {"HS256", "RS256", "ES256"}


def _check(job):
    if job["alg"] not in ALGORITHMS:
        raise Unsupported("python-jose has no " + job["alg"])


def _signing_key(k):
    if k["kind"] == "secret":
        return k["secret"]
    if k["kind"] == "secret_b64url":
        return b64url_decode(k["secret"])
    if k["kind"] == "pkcs8_file":
        return read_text(k["path"])
    raise Unsupported("python-jose cannot use key kind " + k["kind"])


def sign(job):
    _check(job)
    headers = {}
    if job.get("kid"):
        headers["kid"] = job["kid"]
    if job.get("typ"):
        headers["typ"] = job["typ"]
    token = jwt.encode(payload(job, utcnow()), _signing_key(job["key"]), algorithm=job["alg"], headers=headers or None)
    if job.get("jwe"):
        # A nested JWT: the signed token is the JWE plaintext.
        token = jwe.encrypt(token, b64url_decode(job["jwe"]["key"]), algorithm="dir", encryption="A256GCM",
                            cty="JWT", kid=job["jwe"].get("kid")).decode()
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
        return json.loads(read_text(k["path"]))
    if k["kind"] == "jwks_url":
        return fetch_json(k["url"])
    raise Unsupported("python-jose cannot use key kind " + k["kind"])


def verify(job):
    _check(job)
    token = job["token"]
    if job.get("jwe"):
        token = jwe.decrypt(token, b64url_decode(job["jwe"]["key"])).decode()
    e = job["expect"]
    claims = jwt.decode(token, _verification_key(job), algorithms=[job["alg"]], audience=e["aud"], issuer=e["iss"])
    return {"claims": claims, "header": jwt.get_unverified_header(token)}
