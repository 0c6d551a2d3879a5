# A bank backend signs CustomerSecretData for the chat widget (Python, PyJWT).
# UPLUS_JWT_SECRET holds the secret exactly as `msgsec secret new` printed it.
import os
import uuid
from datetime import datetime, timedelta, timezone

import jwt

now = datetime.now(tz=timezone.utc)
token = jwt.encode(
    {
        "iss": "uplusbank-backend",  # the policy's token.issuer
        "aud": "retail-bank",  # the connection ID
        "sub": "customer-42",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": str(uuid.uuid4()),
        "customer_secret_data": {"customer_id": "C-1001", "authentication_status": "authenticated"},
    },
    os.environ["UPLUS_JWT_SECRET"],
    algorithm="HS256",
    headers={"kid": "uplus-2026-11"},
)
print(token)
