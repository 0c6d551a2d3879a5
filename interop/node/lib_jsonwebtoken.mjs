// lib_jsonwebtoken.mjs: npm jsonwebtoken (v9), used as its README shows:
// jwt.sign(payload, secretOrPrivateKey, {algorithm, expiresIn, ...}) with
// the HMAC secret as the string itself and PEM keys as strings;
// jwt.verify(token, secretOrPublicKey, {algorithms, issuer, audience}).
// It has no EdDSA, no JWE and no JWKS support (a JWKS needs another
// package, such as jwks-rsa).
import jwt from 'jsonwebtoken'
import { Unsupported, readText, claimsOptions } from './common.mjs'

const algorithms = ['HS256', 'RS256', 'PS256', 'ES256']

function checkSupported(job) {
  if (!algorithms.includes(job.alg)) throw new Unsupported(`jsonwebtoken has no ${job.alg}`)
  if (job.jwe) throw new Unsupported('jsonwebtoken has no JWE')
}

function signingKey(k) {
  switch (k.kind) {
    case 'none':
      return null // algorithm 'none': an unsecured token
    case 'secret':
      return k.secret
    case 'secret_b64url':
      return Buffer.from(k.secret, 'base64url')
    case 'pkcs8_file':
      return readText(k.path)
  }
  throw new Unsupported(`jsonwebtoken cannot use key kind ${k.kind}`)
}

export function sign(job) {
  if (job.alg !== 'none') checkSupported(job)
  const c = job.claims
  const payload = job.data_top_level ? { ...c.customer_secret_data } : { customer_secret_data: c.customer_secret_data }
  // Date.now()/1000, as many a Node backend computes "now" in seconds:
  // jsonwebtoken keeps it and derives exp from it (both non-integers).
  if (job.fractional_dates) payload.iat = Date.now() / 1000
  const options = {
    algorithm: job.alg,
    expiresIn: job.lifetime,
    issuer: c.iss,
    audience: c.aud,
    subject: c.sub,
    jwtid: c.jti,
  }
  if (job.kid) options.keyid = job.kid
  if (job.typ) options.header = { typ: job.typ }
  return { token: jwt.sign(payload, signingKey(job.key), options) }
}

function verificationKey(k) {
  switch (k.kind) {
    case 'secret':
      return k.secret
    case 'secret_b64url':
      return Buffer.from(k.secret, 'base64url')
    case 'spki_file':
      return readText(k.path)
  }
  throw new Unsupported(`jsonwebtoken cannot use key kind ${k.kind}`)
}

export function verify(job) {
  checkSupported(job)
  const claims = jwt.verify(job.token, verificationKey(job.key), {
    algorithms: [job.alg],
    ...claimsOptions(job),
  })
  return { claims, header: jwt.decode(job.token, { complete: true }).header }
}
