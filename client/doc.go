// Package client is the Go client of Setsuna's cache. It speaks the Momento
// cache gRPC contract, so it also works against any server of that contract,
// and its API follows the shape of Momento's Go SDK: one request struct and
// one sealed response interface per operation.
//
// # Connecting
//
// Create one [CacheClient] and share it; it multiplexes every call over a
// single gRPC connection and is safe for concurrent use:
//
//	c, err := client.NewCacheClient(client.Config{
//		Address:    "127.0.0.1:8080",         // the default
//		Token:      os.Getenv("SETSUNA_TOKEN"), // may be empty
//		DefaultTTL: time.Minute,              // TTL of writes whose Ttl is zero
//	})
//	if err != nil { ... }
//	defer c.Close()
//
// The connection is plaintext unless Config.TLS or Config.TLSConfig is set.
// Each call gets the deadline Config.Timeout (5s by default) unless its
// context already has one.
//
// # Keys, values and responses
//
// Keys and values are [String] or [Bytes]. Every method takes a context and
// a request, and returns a response interface that you type-switch on:
//
//	resp, err := c.Get(ctx, &client.GetRequest{CacheName: "c", Key: client.String("k")})
//	if err != nil { ... }
//	switch r := resp.(type) {
//	case *client.GetHit:
//		fmt.Println(r.ValueString())
//	case *client.GetMiss:
//		fmt.Println("miss")
//	}
//
// A missing item is a response (a Miss), never an error. Operations that
// follow the same rules share response types: the six SetIf* methods return
// [SetIfResponse], the four SetIf*Hash* methods return [SetIfHashResponse],
// and UpdateTtl, IncreaseTtl and DecreaseTtl return [UpdateTtlResponse].
//
// # Errors
//
// Every error is an [*Error] whose [ErrorCode] names its class with the same
// strings as Momento's SDKs (NotFoundError, LimitExceededError, ...). Compare
// with errors.Is against the Err* sentinels, or use errors.As:
//
//	if errors.Is(err, client.ErrCacheNotFound) { ... }
//
// Requests are validated before anything is sent, as the SDKs do: an empty
// cache name or key, a nil value or a negative TTL fails with
// InvalidArgumentError without a round trip.
//
// # Wire details
//
// Data-plane calls (cache_client.Scs) carry the cache name in the "cache"
// request header; control-plane calls (control_client.ScsControl) carry it in
// the request body. Every call carries Config.Token as the raw
// "authorization" header.
package client
