// A bank backend signs CustomerSecretData for the chat widget (Java, standard
// library only: javax.crypto.Mac). UPLUS_JWT_SECRET holds the secret exactly
// as `msgsec secret new` printed it. Build the claims with your JSON library;
// the strings here are constants, so no escaping is needed.
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public class Sign {
    public static void main(String[] args) throws Exception {
        Base64.Encoder b64url = Base64.getUrlEncoder().withoutPadding();
        long now = System.currentTimeMillis() / 1000;
        String header = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"uplus-2026-11\"}";
        String claims = "{\"iss\":\"uplusbank-backend\",\"aud\":\"retail-bank\",\"sub\":\"customer-42\""
                + ",\"iat\":" + now + ",\"exp\":" + (now + 300) + ",\"jti\":\"" + UUID.randomUUID() + "\""
                + ",\"customer_secret_data\":{\"customer_id\":\"C-1001\",\"authentication_status\":\"authenticated\"}}";
        String input = b64url.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64url.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA256");
        byte[] secret = System.getenv("UPLUS_JWT_SECRET").getBytes(StandardCharsets.UTF_8);
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        String signature = b64url.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.UTF_8)));
        System.out.println(input + "." + signature);
    }
}
