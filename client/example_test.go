package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/setsuna-io/setsuna/client"
	"github.com/setsuna-io/setsuna/internal/server"
)

// startServer runs a Setsuna server in-process on a free port, as the
// examples need one. Outside this repository, run "setsuna serve" instead.
func startServer() (addr string, stop func()) {
	srv, err := server.New(server.Config{Listen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", CosmosListen: "off", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	return srv.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	}
}

// connect starts a server, connects a client and creates the cache "demo".
func connect() (c *client.CacheClient, done func()) {
	addr, stop := startServer()
	c, err := client.NewCacheClient(client.Config{Address: addr})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: "demo"}); err != nil {
		log.Fatal(err)
	}
	return c, func() { c.Close(); stop() }
}

func Example() {
	addr, stop := startServer()
	defer stop()

	c, err := client.NewCacheClient(client.Config{Address: addr, DefaultTTL: 10 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	if _, err := c.CreateCache(ctx, &client.CreateCacheRequest{CacheName: "demo"}); err != nil {
		log.Fatal(err)
	}
	_, err = c.Set(ctx, &client.SetRequest{
		CacheName: "demo",
		Key:       client.String("greeting"),
		Value:     client.String("hello, world"),
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Get(ctx, &client.GetRequest{CacheName: "demo", Key: client.String("greeting")})
	if err != nil {
		log.Fatal(err)
	}
	switch r := resp.(type) {
	case *client.GetHit:
		fmt.Println("hit:", r.ValueString())
	case *client.GetMiss:
		fmt.Println("miss")
	}
	// Output: hit: hello, world
}

func ExampleCacheClient_CreateCache() {
	c, done := connect() // creates "demo"
	defer done()

	resp, err := c.CreateCache(context.Background(), &client.CreateCacheRequest{CacheName: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	switch resp.(type) {
	case *client.CreateCacheSuccess:
		fmt.Println("created")
	case *client.CreateCacheAlreadyExists:
		fmt.Println("already exists")
	}
	// Output: already exists
}

func ExampleCacheClient_Get() {
	c, done := connect()
	defer done()

	resp, err := c.Get(context.Background(), &client.GetRequest{CacheName: "demo", Key: client.String("absent")})
	if err != nil {
		log.Fatal(err)
	}
	switch r := resp.(type) {
	case *client.GetHit:
		fmt.Println("hit:", r.ValueString())
	case *client.GetMiss:
		fmt.Println("miss")
	}
	// Output: miss
}

func ExampleCacheClient_GetBatch() {
	c, done := connect()
	defer done()
	ctx := context.Background()

	_, err := c.SetBatch(ctx, &client.SetBatchRequest{
		CacheName: "demo",
		Items: []client.BatchSetItem{
			{Key: client.String("a"), Value: client.String("1")},
			{Key: client.String("b"), Value: client.String("2"), Ttl: time.Minute},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.GetBatch(ctx, &client.GetBatchRequest{
		CacheName: "demo",
		Keys:      []client.Key{client.String("a"), client.String("x"), client.String("b")},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range resp.(*client.GetBatchSuccess).Results() {
		switch r := r.(type) {
		case *client.GetHit:
			fmt.Println("hit", r.ValueString())
		case *client.GetMiss:
			fmt.Println("miss")
		}
	}
	// Output:
	// hit 1
	// miss
	// hit 2
}

func ExampleCacheClient_Increment() {
	c, done := connect()
	defer done()
	ctx := context.Background()

	for _, amount := range []int64{1, 10, -3} {
		resp, err := c.Increment(ctx, &client.IncrementRequest{CacheName: "demo", Key: client.String("visits"), Amount: amount})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(resp.(*client.IncrementSuccess).Value())
	}
	// Output:
	// 1
	// 11
	// 8
}

func ExampleCacheClient_SetIfAbsent() {
	c, done := connect()
	defer done()
	ctx := context.Background()

	for _, owner := range []string{"worker-1", "worker-2"} {
		resp, err := c.SetIfAbsent(ctx, &client.SetIfAbsentRequest{
			CacheName: "demo",
			Key:       client.String("lock"),
			Value:     client.String(owner),
			Ttl:       30 * time.Second,
		})
		if err != nil {
			log.Fatal(err)
		}
		switch resp.(type) {
		case *client.SetIfStored:
			fmt.Println(owner, "took the lock")
		case *client.SetIfNotStored:
			fmt.Println(owner, "found it taken")
		}
	}
	// Output:
	// worker-1 took the lock
	// worker-2 found it taken
}

func ExampleCacheClient_SetIfPresentAndHashEqual() {
	c, done := connect()
	defer done()
	ctx := context.Background()

	// Read-modify-write without lost updates: write only if nobody changed
	// the value since we read it.
	set, err := c.SetWithHash(ctx, &client.SetWithHashRequest{CacheName: "demo", Key: client.String("doc"), Value: client.String("v1")})
	if err != nil {
		log.Fatal(err)
	}
	hash := set.(*client.SetWithHashStored).Hash()
	for _, next := range []string{"v2", "v3"} {
		resp, err := c.SetIfPresentAndHashEqual(ctx, &client.SetIfPresentAndHashEqualRequest{
			CacheName: "demo", Key: client.String("doc"), Value: client.String(next), HashEqual: hash,
		})
		if err != nil {
			log.Fatal(err)
		}
		switch resp.(type) {
		case *client.SetIfHashStored:
			fmt.Println("wrote", next)
		case *client.SetIfHashNotStored:
			fmt.Println("conflict, not writing", next)
		}
	}
	// Output:
	// wrote v2
	// conflict, not writing v3
}

func ExampleCacheClient_ItemGetTtl() {
	c, done := connect()
	defer done()
	ctx := context.Background()

	if _, err := c.Set(ctx, &client.SetRequest{CacheName: "demo", Key: client.String("k"), Value: client.String("v"), Ttl: time.Hour}); err != nil {
		log.Fatal(err)
	}
	if _, err := c.DecreaseTtl(ctx, &client.DecreaseTtlRequest{CacheName: "demo", Key: client.String("k"), Ttl: time.Minute}); err != nil {
		log.Fatal(err)
	}
	resp, err := c.ItemGetTtl(ctx, &client.ItemGetTtlRequest{CacheName: "demo", Key: client.String("k")})
	if err != nil {
		log.Fatal(err)
	}
	switch r := resp.(type) {
	case *client.ItemGetTtlHit:
		fmt.Println("expires within a minute:", r.RemainingTtl() <= time.Minute)
	case *client.ItemGetTtlMiss:
		fmt.Println("miss")
	}
	// Output: expires within a minute: true
}

func ExampleError() {
	c, done := connect()
	defer done()

	_, err := c.Get(context.Background(), &client.GetRequest{CacheName: "no-such-cache", Key: client.String("k")})
	if errors.Is(err, client.ErrCacheNotFound) {
		fmt.Println("the cache does not exist")
	}
	var cerr *client.Error
	if errors.As(err, &cerr) {
		fmt.Println("code:", cerr.Code())
	}

	// Invalid requests fail before anything is sent.
	_, err = c.Set(context.Background(), &client.SetRequest{CacheName: "demo", Key: client.String("")})
	fmt.Println(err)
	// Output:
	// the cache does not exist
	// code: NotFoundError
	// InvalidArgumentError: key cannot be empty
}
