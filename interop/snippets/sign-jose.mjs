// A bank backend signs CustomerSecretData for the chat widget (Node, npm jose).
// UPLUS_JWT_SECRET holds the secret exactly as `msgsec secret new` printed it.
import { SignJWT } from 'jose'
import { randomUUID } from 'node:crypto'

const secret = new TextEncoder().encode(process.env.UPLUS_JWT_SECRET)
const token = await new SignJWT({
  customer_secret_data: { customer_id: 'C-1001', authentication_status: 'authenticated' },
})
  .setProtectedHeader({ alg: 'HS256', kid: 'uplus-2026-11' })
  .setIssuer('uplusbank-backend') // the policy's token.issuer
  .setAudience('retail-bank') // the connection ID
  .setSubject('customer-42')
  .setJti(randomUUID())
  .setIssuedAt()
  .setExpirationTime('5m')
  .sign(secret)
console.log(token)
