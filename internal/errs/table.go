package errs

// The table: every public error of Setsuna, one row each. A Reason never
// changes once released (surfaces may put it on the wire, e.g. Momento's
// "err" trailer); add rows, do not rename them. A generic row matches every
// error of its code in errors.Is.
var (
	// Generic rows.
	ErrInternal         = defineGeneric(CodeInternal, "internal", "internal error")
	ErrInvalidArgument  = defineGeneric(CodeInvalidArgument, "invalid_argument", "invalid argument")
	ErrUnavailable      = defineGeneric(CodeUnavailable, "unavailable", "service unavailable")
	ErrCanceled         = defineGeneric(CodeCanceled, "canceled", "request canceled")
	ErrDeadlineExceeded = defineGeneric(CodeDeadlineExceeded, "deadline_exceeded", "request deadline exceeded")
	ErrUnimplemented    = defineGeneric(CodeUnimplemented, "unimplemented", "not implemented by this server")

	// Caches and items.
	ErrCacheNotFound   = define(CodeNotFound, "cache_not_found", "cache not found")
	ErrCacheExists     = define(CodeAlreadyExists, "cache_already_exists", "cache already exists")
	ErrInvalidName     = define(CodeInvalidArgument, "invalid_cache_name", "invalid cache name")
	ErrNotInteger      = define(CodeFailedPrecondition, "not_an_integer", "value is not a base-10 64-bit integer")
	ErrOverflow        = define(CodeFailedPrecondition, "increment_overflow", "increment overflows a 64-bit integer")
	ErrWrongType       = define(CodeFailedPrecondition, "wrong_type", "operation against an item of another type")
	ErrItemTooLarge    = define(CodeResourceExhausted, "item_size_limit_exceeded", "item size limit exceeded")
	ErrElementTooLarge = define(CodeResourceExhausted, "element_size_limit_exceeded", "element size limit exceeded")
	ErrOutOfMemory     = define(CodeResourceExhausted, "max_memory_reached", "server memory limit reached")
	// ErrItemNotFound: a read that names one item, on a surface whose
	// protocol answers a miss with an error (the console's item view).
	ErrItemNotFound = define(CodeNotFound, "item_not_found", "item not found")

	// Engines.
	// ErrOutcomeUnknown: the engine may or may not have applied a change
	// (a timeout or a lost connection after the request was sent). Never
	// report such a write as done or as failed.
	ErrOutcomeUnknown = define(CodeUnavailable, "outcome_unknown", "the outcome is unknown: the change may or may not have been applied")
	ErrShuttingDown   = define(CodeUnavailable, "shutting_down", "server is shutting down")
	// ErrTooManyRequests: a caller is over its share of a bound (calls in
	// flight, subscriptions); others are unaffected.
	ErrTooManyRequests = define(CodeResourceExhausted, "operations_limit_exceeded", "too many concurrent operations")
	// ErrDiskFull: the persistent engine cannot append to its log for lack
	// of space; writes are refused (nothing is done) until a retry of the
	// log succeeds, reads go on.
	ErrDiskFull = define(CodeResourceExhausted, "disk_full", "the server's disk is full: writes are refused until space is freed")
	// ErrLogFailed: the persistent engine's log cannot be written for
	// another reason (an I/O error); writes are refused meanwhile.
	ErrLogFailed = define(CodeUnavailable, "log_write_failed", "the server cannot write its data log: writes are refused")

	// Change feed.
	// ErrFeedRetention: an all-versions read starts before the oldest change
	// still retained (or before a flush of the cache).
	ErrFeedRetention = define(CodeOutOfRange, "feed_retention", "change feed position is outside the retention period")
	// ErrFeedEpoch: a feed position of another epoch of the cache (it was
	// deleted and re-created).
	ErrFeedEpoch           = define(CodeFailedPrecondition, "feed_epoch", "change feed position belongs to another epoch of the cache")
	ErrInvalidRange        = define(CodeInvalidArgument, "invalid_feed_range", "invalid feed range")
	ErrInvalidContinuation = define(CodeInvalidArgument, "invalid_continuation", "invalid continuation token")
	// ErrAllVersionsStart: all-versions-and-deletes reads start from Now or
	// a continuation. The message is the one Cosmos DB returns.
	ErrAllVersionsStart = define(CodeInvalidArgument, "all_versions_start", "You must read the change feed from within the retention period. All-versions-and-deletes mode starts from Now or a continuation")

	// Topics.
	ErrInvalidTopic         = define(CodeInvalidArgument, "invalid_topic_name", "invalid topic name")
	ErrEmptyPayload         = define(CodeInvalidArgument, "empty_payload", "a topic message must not be empty")
	ErrPayloadTooLarge      = define(CodeResourceExhausted, "topic_payload_too_large", "topic message element size limit exceeded")
	ErrTooManySubscriptions = define(CodeResourceExhausted, "topic_subscriptions_limit_exceeded", "topic subscribers limit exceeded")
	// The Momento SDKs pick their message by the words "operations" and
	// "throughput".
	ErrPublishRateExceeded       = define(CodeResourceExhausted, "operations_rate_limit_exceeded", "publish operations rate limit exceeded")
	ErrPublishThroughputExceeded = define(CodeResourceExhausted, "throughput_rate_limit_exceeded", "publish throughput limit exceeded")

	// The publish API (internal/publish): statuses and limits of a publication.
	// ErrNoSubscriber: nobody subscribes to the subject, so nothing was
	// published (the NO_SUBSCRIBER status).
	ErrNoSubscriber           = define(CodeFailedPrecondition, "no_subscriber", "no client is subscribed to the subject")
	ErrInvalidSubject         = define(CodeInvalidArgument, "invalid_subject", "invalid subject")
	ErrClosureTooLarge        = define(CodeInvalidArgument, "closure_too_large", "closure too large")
	ErrInvalidIdempotencyKey  = define(CodeInvalidArgument, "invalid_idempotency_key", "invalid idempotency key")
	ErrRetainedLimitExceeded  = define(CodeResourceExhausted, "retained_limit_exceeded", "retained subjects limit exceeded")
	ErrStreamsLimitExceeded   = define(CodeResourceExhausted, "streams_limit_exceeded", "open streams limit exceeded")
	ErrIdempotencyUnsupported = define(CodeUnimplemented, "idempotency_unsupported", "idempotency keys are not supported by this engine")

	// Auth.
	ErrUnauthenticated  = define(CodeUnauthenticated, "unauthenticated", "unauthenticated")
	ErrPermissionDenied = define(CodePermissionDenied, "permission_denied", "permission denied")
	ErrInvalidToken     = define(CodeInvalidArgument, "invalid_token_request", "invalid token request")
	ErrAuthDisabled     = define(CodeFailedPrecondition, "auth_disabled", "tokens are not available: the server runs without --auth")
)
