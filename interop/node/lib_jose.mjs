// lib_jose.mjs: npm jose (v6), used as its documentation shows: an HMAC
// secret is new TextEncoder().encode(secret); PEM keys come in through
// importPKCS8/importSPKI; JWKS through createLocalJWKSet/createRemoteJWKSet;
// tokens are built with SignJWT and checked with jwtVerify.
import * as jose from 'jose'
import { Unsupported, readText, claimsOptions } from './common.mjs'

const generateOptions = { extractable: true } // RSA: modulusLength 2048 (jose's default)

async function signingKey(job, alg) {
  const k = job.key
  switch (k.kind) {
    case 'secret':
      return { key: new TextEncoder().encode(k.secret) }
    case 'secret_b64url':
      return { key: jose.base64url.decode(k.secret) }
    case 'pkcs8_file':
      return { key: await jose.importPKCS8(readText(k.path), alg) }
    case 'generate': {
      const { publicKey, privateKey } = await jose.generateKeyPair(alg, generateOptions)
      const jwk = await jose.exportJWK(publicKey) // as exported: kty and key members only
      if (k.jwk === 'kid' || k.jwk === 'kid-alg') jwk.kid = job.kid
      if (k.jwk === 'kid-alg') jwk.alg = alg
      return { key: privateKey, jwk, public_pem: await jose.exportSPKI(publicKey) }
    }
  }
  throw new Unsupported(`key kind ${k.kind}`)
}

export async function sign(job) {
  const alg = job.alg
  if (alg === 'none') return { token: unsecured(job) }
  const { key, jwk, public_pem } = await signingKey(job, alg)
  const header = { alg }
  const kid = jwk ? jwk.kid : job.kid
  if (kid) header.kid = kid
  if (job.typ) header.typ = job.typ
  const c = job.claims
  const payload = job.data_top_level ? { ...c.customer_secret_data } : { customer_secret_data: c.customer_secret_data }
  let token = await new jose.SignJWT(payload)
    .setProtectedHeader(header)
    .setIssuedAt()
    .setIssuer(c.iss)
    .setAudience(c.aud)
    .setSubject(c.sub)
    .setJti(c.jti)
    .setExpirationTime(`${job.lifetime}s`)
    .sign(key)
  if (job.jwe) {
    // A nested JWT (RFC 7519 §5.2): the signed token is the JWE plaintext.
    const hdr = { alg: 'dir', enc: 'A256GCM', cty: 'JWT' }
    if (job.jwe.kid) hdr.kid = job.jwe.kid
    token = await new jose.CompactEncrypt(new TextEncoder().encode(token))
      .setProtectedHeader(hdr)
      .encrypt(jose.base64url.decode(job.jwe.key))
  }
  return { token, jwk, public_pem }
}

// unsecured: jose's UnsecuredJWT (alg "none"), which no verifier may accept.
function unsecured(job) {
  const c = job.claims
  return new jose.UnsecuredJWT({ customer_secret_data: c.customer_secret_data })
    .setIssuedAt()
    .setIssuer(c.iss)
    .setAudience(c.aud)
    .setSubject(c.sub)
    .setJti(c.jti)
    .setExpirationTime(`${job.lifetime}s`)
    .encode()
}

async function verificationKey(job) {
  const k = job.key
  switch (k.kind) {
    case 'secret':
      return new TextEncoder().encode(k.secret)
    case 'secret_b64url':
      return jose.base64url.decode(k.secret)
    case 'spki_file':
      return jose.importSPKI(readText(k.path), job.alg)
    case 'jwks_file':
      return jose.createLocalJWKSet(JSON.parse(readText(k.path)))
    case 'jwks_url':
      return jose.createRemoteJWKSet(new URL(k.url))
  }
  throw new Unsupported(`key kind ${k.kind}`)
}

export async function verify(job) {
  let token = job.token
  if (job.jwe) {
    const { plaintext, protectedHeader } = await jose.compactDecrypt(token, jose.base64url.decode(job.jwe.key))
    if (protectedHeader.cty !== 'JWT') throw new Error(`jwe cty is ${protectedHeader.cty}`)
    token = new TextDecoder().decode(plaintext)
  }
  const key = await verificationKey(job)
  const { payload, protectedHeader } = await jose.jwtVerify(token, key, {
    ...claimsOptions(job),
    algorithms: [job.alg],
  })
  return { claims: payload, header: protectedHeader }
}
