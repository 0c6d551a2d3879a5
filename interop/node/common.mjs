// common.mjs: what the library modules share with the driver.
import { readFileSync } from 'node:fs'

// Unsupported marks a job the library cannot do (an algorithm, JWE, JWKS).
export class Unsupported extends Error {}

export const readText = (path) => readFileSync(path, 'utf8')

// expectClaims is what every verify job checks besides the signature.
export const claimsOptions = (job) => ({ issuer: job.expect.iss, audience: job.expect.aud })
