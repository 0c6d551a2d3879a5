// A bank backend signs CustomerSecretData for the chat widget (C#, standard
// library only: System.Security.Cryptography.HMACSHA256). UPLUS_JWT_SECRET
// holds the secret exactly as `msgsec secret new` printed it. Build the
// claims with System.Text.Json in real code; the strings here are constants.
using System;
using System.Security.Cryptography;
using System.Text;

public static class Sign
{
    static string B64Url(byte[] b) =>
        Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static void Main()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string header = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"uplus-2026-11\"}";
        string claims = "{\"iss\":\"uplusbank-backend\",\"aud\":\"retail-bank\",\"sub\":\"customer-42\""
            + ",\"iat\":" + now + ",\"exp\":" + (now + 300) + ",\"jti\":\"" + Guid.NewGuid() + "\""
            + ",\"customer_secret_data\":{\"customer_id\":\"C-1001\",\"authentication_status\":\"authenticated\"}}";
        string input = B64Url(Encoding.UTF8.GetBytes(header)) + "." + B64Url(Encoding.UTF8.GetBytes(claims));
        byte[] secret = Encoding.UTF8.GetBytes(Environment.GetEnvironmentVariable("UPLUS_JWT_SECRET"));
        using (var hmac = new HMACSHA256(secret))
        {
            Console.WriteLine(input + "." + B64Url(hmac.ComputeHash(Encoding.UTF8.GetBytes(input))));
        }
    }
}
