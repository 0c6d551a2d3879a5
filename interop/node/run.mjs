// run.mjs: the interop suite's Node driver. One process per library:
//
//   node run.mjs jose|jsonwebtoken < jobs.json > results.json
//
// jobs.json is a JSON array of jobs; the answer is a JSON array of results,
// in the same order. The job protocol (shared with ../python/run.py):
//
//   {"id": "...", "op": "sign", "alg": "HS256|RS256|PS256|ES256|EdDSA|Ed25519",
//    "key": {"kind": "secret", "secret": "<the string as printed>"}
//         | {"kind": "secret_b64url", "secret": "<base64url, decoded to bytes first>"}
//         | {"kind": "pkcs8_file", "path": "<PEM PRIVATE KEY file>"}
//         | {"kind": "generate", "jwk": "as-exported|kid|kid-alg"},
//    "kid": "<optional>", "typ": "<optional header typ>",
//    "claims": {"iss", "aud", "sub", "jti", "customer_secret_data": {...}},
//    "lifetime": 300, "fractional_dates": false, "data_top_level": false,
//    "jwe": {"key": "<base64url 32 bytes>", "kid": "<optional>"}}
//   -> {"id", "ok": true, "token": "...", "jwk": {...}, "public_pem": "..."}
//
//   {"id": "...", "op": "verify", "alg": "...", "token": "...",
//    "key": {"kind": "secret"|"secret_b64url", "secret": "..."}
//         | {"kind": "spki_file"|"jwks_file", "path": "..."}
//         | {"kind": "jwks_url", "url": "..."},
//    "expect": {"iss", "aud"}, "jwe": {"key": "..."}}
//   -> {"id", "ok": true, "claims": {...}, "header": {...}}
//
// A job that fails answers {"id", "ok": false, "error": "<Class>: <message>"};
// one the library cannot do answers {"id", "ok": false, "unsupported": true,
// "error": "..."}. {"id", "op": "version"} answers the library's version.
import { readFileSync } from 'node:fs'
import { Unsupported } from './common.mjs'

const name = process.argv[2]
const libs = {
  jose: () => import('./lib_jose.mjs'),
  jsonwebtoken: () => import('./lib_jsonwebtoken.mjs'),
}
if (!libs[name]) {
  process.stderr.write(`usage: node run.mjs ${Object.keys(libs).join('|')} < jobs.json\n`)
  process.exit(2)
}
const lib = await libs[name]()
const jobs = JSON.parse(readFileSync(0, 'utf8'))
const results = []
for (const job of jobs) {
  if (job.op === 'version') {
    const pkg = JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8'))
    results.push({ id: job.id, ok: true, version: pkg.version })
    continue
  }
  try {
    const fn = lib[job.op]
    if (!fn) throw new Unsupported(`op ${job.op}`)
    results.push({ id: job.id, ok: true, ...(await fn(job)) })
  } catch (e) {
    const r = { id: job.id, ok: false, error: `${e?.constructor?.name ?? 'Error'}: ${e?.code ? e.code + ': ' : ''}${e?.message ?? e}` }
    if (e instanceof Unsupported) r.unsupported = true
    results.push(r)
  }
}
process.stdout.write(JSON.stringify(results))
