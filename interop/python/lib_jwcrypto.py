"""jwcrypto (Debian python3-jwcrypto), used as its docs show: keys are
jwk.JWK objects (JWK.from_password for a secret used as the string itself,
JWK(kty="oct", k=...) for a base64url secret, JWK.from_pem, JWK.generate,
JWKSet.from_json); tokens are jwt.JWT(header=..., claims=...) signed with
make_signed_token and, for JWE, wrapped with make_encrypted_token; checked
with jwt.JWT(jwt=token, key=..., check_claims=...)."""
import json

from jwcrypto import jwk, jwt

from common import Unsupported, fetch_json, int_now, payload, read_bytes, read_text

ALGORITHMS = {"HS256", "RS256", "PS256", "ES256", "EdDSA"}
GENERATE = {
    "RS256": dict(kty="RSA", size=2048),
    "PS256": dict(kty="RSA", size=2048),
    "ES256": dict(kty="EC", crv="P-256"),
    "EdDSA": dict(kty="OKP", crv="Ed25519"),
}


def _check(job):
    if job["alg"] not in ALGORITHMS:
        raise Unsupported("jwcrypto has no " + job["alg"])


def _oct(secret_b64url):
    return jwk.JWK(kty="oct", k=secret_b64url)


def sign(job):
    _check(job)
    k = job["key"]
    out = {}
    if k["kind"] == "secret":
        key = jwk.JWK.from_password(k["secret"])
    elif k["kind"] == "secret_b64url":
        key = _oct(k["secret"])
    elif k["kind"] == "pkcs8_file":
        key = jwk.JWK.from_pem(read_bytes(k["path"]))
    elif k["kind"] == "generate":
        params = dict(GENERATE[job["alg"]])
        if k["jwk"] in ("kid", "kid-alg"):
            params["kid"] = job["kid"]
        if k["jwk"] == "kid-alg":
            params["alg"] = job["alg"]
        key = jwk.JWK.generate(**params)
        out["jwk"] = key.export_public(as_dict=True)
        out["public_pem"] = key.export_to_pem().decode()
    else:
        raise Unsupported("jwcrypto cannot use key kind " + k["kind"])
    header = {"alg": job["alg"]}
    kid = out["jwk"].get("kid") if "jwk" in out else job.get("kid")
    if kid:
        header["kid"] = kid
    if job.get("typ"):
        header["typ"] = job["typ"]
    token = jwt.JWT(header=header, claims=payload(job, int_now()))
    token.make_signed_token(key)
    token = token.serialize()
    if job.get("jwe"):
        hdr = {"alg": "dir", "enc": "A256GCM", "cty": "JWT"}
        if job["jwe"].get("kid"):
            hdr["kid"] = job["jwe"]["kid"]
        e = jwt.JWT(header=hdr, claims=token)
        e.make_encrypted_token(_oct(job["jwe"]["key"]))
        token = e.serialize()
    out["token"] = token
    return out


def _verification_key(job):
    k = job["key"]
    if k["kind"] == "secret":
        return jwk.JWK.from_password(k["secret"])
    if k["kind"] == "secret_b64url":
        return _oct(k["secret"])
    if k["kind"] == "spki_file":
        return jwk.JWK.from_pem(read_bytes(k["path"]))
    if k["kind"] == "jwks_file":
        return jwk.JWKSet.from_json(read_text(k["path"]))
    if k["kind"] == "jwks_url":
        return jwk.JWKSet.from_json(json.dumps(fetch_json(k["url"])))
    raise Unsupported("jwcrypto cannot use key kind " + k["kind"])


def verify(job):
    _check(job)
    token = job["token"]
    if job.get("jwe"):
        outer = jwt.JWT(jwt=token, key=_oct(job["jwe"]["key"]))
        token = outer.claims
    e = job["expect"]
    t = jwt.JWT(jwt=token, key=_verification_key(job), algs=[job["alg"]],
                check_claims={"iss": e["iss"], "aud": e["aud"], "exp": None})
    return {"claims": json.loads(t.claims), "header": json.loads(t.header)}
