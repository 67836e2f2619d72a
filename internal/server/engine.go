package server

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/setsuna-io/setsuna/internal/cluster"
	"github.com/setsuna-io/setsuna/internal/store"
	"github.com/setsuna-io/setsuna/internal/store/memstore"
	"github.com/setsuna-io/setsuna/internal/store/memstore/wal"
	"github.com/setsuna-io/setsuna/internal/store/redisstore"
)

// Engines.
const (
	EngineMemory = "memory"
	EngineRedis  = "redis"
	// DefaultRedisPartitions spreads one cache over every shard of a
	// Redis Cluster (a partition is one hash slot).
	DefaultRedisPartitions = 64
)

func (c *Config) validateEngine() error {
	switch c.Engine {
	case EngineMemory:
		if len(c.RedisAddrs) > 0 || c.RedisTLS || c.RedisWaitReplicas != 0 {
			return errors.New("the --redis-* flags need --engine redis")
		}
	case EngineRedis:
		if len(c.RedisAddrs) == 0 {
			return errors.New("--engine redis needs --redis-addrs host:port[,host:port...]")
		}
		if c.RedisWaitReplicas < 0 {
			return fmt.Errorf("redis-wait-replicas must not be negative, got %d", c.RedisWaitReplicas)
		}
		if c.RedisCA != "" && !c.RedisTLS {
			return errors.New("--redis-ca needs --redis-tls")
		}
		if c.MaxMemory > 0 {
			return errors.New("--max-memory bounds the memory engine; bound Redis with its own maxmemory (and maxmemory-policy noeviction)")
		}
		if c.Fsync != "" && c.Fsync != "everysec" || c.Repair || c.SnapshotAfter != 0 {
			return errors.New("--fsync, --repair and --snapshot-after are memory-engine persistence flags; Redis keeps the data with its own persistence (appendonly, replicas)")
		}
	default:
		return fmt.Errorf("unknown engine %q (memory or redis)", c.Engine)
	}
	return nil
}

// openEngine builds the store and the topic log of cfg.Engine.
func (s *Server) openEngine() error {
	cfg := s.cfg
	if cfg.Engine == EngineRedis {
		return s.openRedis()
	}
	mopts := memstore.Options{Partitions: cfg.Partitions, MaxMemory: cfg.MaxMemory, Logger: cfg.Logger,
		FeedLogRecords: cfg.FeedLogRecords, FeedLogBytes: cfg.FeedLogBytes}
	topts := memstore.TopicLogOptions{MaxMessages: cfg.TopicReplayMessages, MaxTotalBytes: cfg.TopicMaxMemory}
	if cfg.Persistent() {
		fsync, _ := wal.ParseFsync(cfg.Fsync)
		st, tl, err := memstore.Open(mopts, topts, memstore.PersistOptions{Dir: cfg.EngineDir(), Fsync: fsync, Repair: cfg.Repair, SnapshotAfter: cfg.SnapshotAfter})
		if err != nil {
			return err
		}
		s.store, s.topicLog = st, tl
		return nil
	}
	s.store = memstore.New(mopts)
	s.topicLog = memstore.NewTopicLog(topts)
	return nil
}

func (s *Server) openRedis() error {
	cfg := s.cfg
	co := redisstore.ClientOptions{Addrs: cfg.RedisAddrs, Username: cfg.RedisUsername, Password: cfg.RedisPassword}
	if cfg.RedisTLS {
		co.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.RedisCA != "" {
			pem, err := os.ReadFile(cfg.RedisCA)
			if err != nil {
				return fmt.Errorf("cannot read --redis-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("--redis-ca %s holds no PEM certificate", cfg.RedisCA)
			}
			co.TLS.RootCAs = pool
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redisstore.Dial(ctx, co)
	if err != nil {
		return err
	}
	st, err := redisstore.New(c, redisstore.Options{Partitions: cfg.Partitions, FeedLogRecords: cfg.FeedLogRecords,
		WaitReplicas: cfg.RedisWaitReplicas, Logger: cfg.Logger})
	if err != nil {
		c.Close()
		return err
	}
	s.store = st
	s.topicLog = redisstore.NewTopicLog(c, redisstore.TopicLogOptions{MaxMessages: cfg.TopicReplayMessages, Logger: cfg.Logger})
	s.redis = c
	return nil
}

// closeRedis closes the client the redis engine shares (after the store and
// the topic log).
func (s *Server) closeRedis() {
	if s.redis != nil {
		_ = s.redis.Close()
	}
}

// nodeID names this node: in the registry, the logs and the publish API's
// server list.
func (s *Server) nodeID() string { return cmp.Or(s.cfg.NodeID, s.hub.NodeID()) }

// newRegistry makes the node registry (with the memory engine it lists
// this node alone and writes nothing); startRegistry records the node once its
// listeners are bound.
func (s *Server) newRegistry() {
	var rec store.Records // the memory engine is not shared: the node is alone
	if s.cfg.Engine == EngineRedis {
		rec = s.store
	}
	s.nodes = cluster.New(rec, cluster.Node{ID: s.nodeID(), Engine: s.cfg.Engine, Version: s.cfg.Version}, cluster.Options{Logger: s.log})
}

func (s *Server) startRegistry() {
	addrs := s.listenerAddrs()
	if s.cfg.Endpoint != s.cfg.Listen {
		addrs["grpc"] = s.cfg.Endpoint
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.nodes.Start(ctx, addrs)
}

// Nodes are the nodes of the engine as the last heartbeat read them.
func (s *Server) Nodes() []cluster.Node { return s.nodes.Nodes() }

// clusterNodes serves the registry as JSON: {"self": id, "nodes": [{...,
// "up": bool}]}.
func (s *Server) clusterNodes(w http.ResponseWriter, _ *http.Request) {
	type node struct {
		cluster.Node
		Up bool `json:"up"`
	}
	out := struct {
		Self  string `json:"self"`
		Nodes []node `json:"nodes"`
	}{Self: s.nodeID(), Nodes: []node{}}
	now := time.Now()
	for _, n := range s.Nodes() {
		out.Nodes = append(out.Nodes, node{Node: n, Up: n.Alive(now, s.nodes.TTL())})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
