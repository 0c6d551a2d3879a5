"""Authlib (Debian python3-authlib), used as its docs show:
authlib.jose.jwt.encode(header, payload, key) with the HMAC secret as the
string itself and PEM keys as bytes; jwt.decode(token, key,
claims_options=...) then claims.validate(); JsonWebKey.import_key_set for
a JWKS; JsonWebKey.generate_key for the bank's own keys;
JsonWebEncryption.serialize_compact / deserialize_compact for JWE."""
from authlib.jose import JsonWebEncryption, JsonWebKey, JsonWebToken, jwt

from common import Unsupported, b64url_decode, fetch_json, int_now, payload, read_bytes, read_text

ALGORITHMS = {"HS256", "RS256", "PS256", "ES256", "EdDSA"}
GENERATE = {"RS256": ("RSA", 2048), "PS256": ("RSA", 2048), "ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}


def _check(job):
    if job["alg"] not in ALGORITHMS:
        raise Unsupported("Authlib has no " + job["alg"])


def sign(job):
    _check(job)
    k = job["key"]
    out = {}
    if k["kind"] == "secret":
        key = k["secret"]
    elif k["kind"] == "secret_b64url":
        key = b64url_decode(k["secret"])
    elif k["kind"] == "pkcs8_file":
        key = read_bytes(k["path"])
    elif k["kind"] == "generate":
        kty, size = GENERATE[job["alg"]]
        options = {"kid": job["kid"]} if k["jwk"] in ("kid", "kid-alg") else None
        key = JsonWebKey.generate_key(kty, size, options=options, is_private=True)
        out["jwk"] = key.as_dict(is_private=False)  # Authlib adds a thumbprint kid
        if k["jwk"] == "kid-alg":
            out["jwk"]["alg"] = job["alg"]
        out["public_pem"] = key.as_pem(is_private=False).decode()
    else:
        raise Unsupported("Authlib cannot use key kind " + k["kind"])
    header = {"alg": job["alg"]}
    kid = out["jwk"].get("kid") if "jwk" in out else job.get("kid")
    if kid:
        header["kid"] = kid
    if job.get("typ"):
        header["typ"] = job["typ"]
    token = jwt.encode(header, payload(job, int_now()), key).decode()
    if job.get("jwe"):
        hdr = {"alg": "dir", "enc": "A256GCM", "cty": "JWT"}
        if job["jwe"].get("kid"):
            hdr["kid"] = job["jwe"]["kid"]
        token = JsonWebEncryption().serialize_compact(hdr, token.encode(), b64url_decode(job["jwe"]["key"])).decode()
    out["token"] = token
    return out


def _verification_key(job):
    k = job["key"]
    if k["kind"] == "secret":
        return k["secret"]
    if k["kind"] == "secret_b64url":
        return b64url_decode(k["secret"])
    if k["kind"] == "spki_file":
        return read_bytes(k["path"])
    if k["kind"] == "jwks_file":
        return JsonWebKey.import_key_set(read_text(k["path"]))
    if k["kind"] == "jwks_url":
        return JsonWebKey.import_key_set(fetch_json(k["url"]))
    raise Unsupported("Authlib cannot use key kind " + k["kind"])


def verify(job):
    _check(job)
    token = job["token"]
    if job.get("jwe"):
        data = JsonWebEncryption().deserialize_compact(token, b64url_decode(job["jwe"]["key"]))
        if data["header"].get("cty") != "JWT":
            raise ValueError("jwe cty is %r" % data["header"].get("cty"))
        token = data["payload"].decode()
    e = job["expect"]
    # Authlib's docs: name the algorithms the application accepts.
    claims = JsonWebToken([job["alg"]]).decode(token, _verification_key(job), claims_options={
        "iss": {"essential": True, "value": e["iss"]},
        "aud": {"essential": True, "value": e["aud"]},
        "exp": {"essential": True},
    })
    claims.validate()
    return {"claims": dict(claims), "header": dict(claims.header)}
