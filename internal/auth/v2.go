package auth

// v2 API keys. The Momento SDKs tell a v2 key from a v1 key by its shape:
// a v2 key is a bare JWT (not base64 JSON) whose payload carries "t": "g"
// ("global" key), and it names no endpoint: the SDK takes that apart
// (MOMENTO_ENDPOINT, CredentialProvider.fromEnvVarV2) and dials
// cache.<endpoint>, control.<endpoint> and token.<endpoint> over TLS on
// port 443. Setsuna signs v2 keys with the same keyring as v1 keys, and they
// carry the same permissions and are revoked the same way: only the type
// claim and the wrapping differ.

// TypeV2 is the type claim of a v2 API key.
const TypeV2 = "g"

// IsV2 reports whether the token is a v2 API key.
func (c *Claims) IsV2() bool { return c.Type == TypeV2 }
